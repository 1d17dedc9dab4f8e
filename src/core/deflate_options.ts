/**
 * The options of permessage-deflate compression (RFC 7692), with their defaults, in one
 * place beside the limits.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  isOptionsObject,
  optionTypeError,
} from "./options.ts";

/**
 * How a route compresses messages with permessage-deflate (RFC 7692).
 *
 * Compression is off unless a route or the site turns it on, as in `ws` and Bun: each
 * connection that negotiates it keeps a compressor and a decompressor, 250 to 300 KiB
 * with these defaults (a 15-bit window and `memLevel` 8 cost zlib 256 KiB to compress
 * and 40 KiB to decompress). Windows of 12 bits and `memLevel` 5 cut that to about
 * 100 KiB for a small loss of ratio.
 */
export interface DeflateOptions {
  /**
   * Messages smaller than this many bytes are sent uncompressed (text is measured in
   * UTF-8 bytes). Received messages are decompressed whatever their size.
   * @default 1024
   */
  threshold: number;
  /**
   * zlib's compression level, 0 (store) to 9 (smallest, slowest).
   * @default 6 (zlib's default)
   */
  level: number;
  /**
   * zlib's memory level for compressing, 1 to 9: memory for its hash table and buffer.
   * @default 8 (zlib's default)
   */
  memLevel: number;
  /**
   * Whether the server compresses each message on its own, forgetting the previous
   * ones (`server_no_context_takeover`): less memory between messages, a worse ratio.
   * A client may ask for it whatever this says.
   * @default false
   */
  serverNoContextTakeover: boolean;
  /**
   * Whether clients must compress each message on their own
   * (`client_no_context_takeover`), so the server's decompressor forgets each message.
   * A client may offer it whatever this says.
   * @default false
   */
  clientNoContextTakeover: boolean;
  /**
   * The largest LZ77 window the server compresses with, as a power of two (8 to 15;
   * `server_max_window_bits`). A client may ask for a smaller one. zlib cannot open a raw
   * deflate stream with an 8-bit window, so 8 compresses with 9 bits, whose matches never
   * reach back more than 250 bytes (zlib keeps 262 bytes of lookahead): within the
   * 256-byte window promised, as `ws` does.
   * @default 15
   */
  serverMaxWindowBits: number;
  /**
   * The largest LZ77 window clients may compress with (8 to 15;
   * `client_max_window_bits`). Below 15, an offer from a client that cannot limit its
   * window (no `client_max_window_bits` parameter) is declined, as `ws` does.
   * @default 15
   */
  clientMaxWindowBits: number;
  /**
   * Most compression and decompression jobs running at once for all the connections of
   * a route (as `ws`'s `concurrencyLimit`); others wait their turn, so many connections
   * cannot make zlib hold many messages at once.
   * @default 10
   */
  concurrencyLimit: number;
}

/**
 * The default permessage-deflate options, used where a route or the site turns
 * compression on with `true` or leaves a field out.
 *
 * @example Turning compression on for a route, with smaller windows
 * ```ts
 * import { resolveDeflateOptions } from "./deflate_options.ts";
 * const options = resolveDeflateOptions({ serverMaxWindowBits: 12, clientMaxWindowBits: 12 });
 * options?.threshold; // 1024
 * ```
 */
export const DEFAULT_DEFLATE_OPTIONS: Readonly<DeflateOptions> = Object.freeze({
  threshold: 1024,
  level: 6,
  memLevel: 8,
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  concurrencyLimit: 10,
});

/** How `perMessageDeflate` is given: on with the defaults, off, or on with overrides. */
export type DeflateSetting = boolean | Partial<DeflateOptions>;

const RANGES: Record<string, readonly [number, number]> = {
  threshold: [0, Number.MAX_SAFE_INTEGER],
  level: [0, 9],
  memLevel: [1, 9],
  serverMaxWindowBits: [8, 15],
  clientMaxWindowBits: [8, 15],
  concurrencyLimit: [1, Number.MAX_SAFE_INTEGER],
};

const NAMES = Object.keys(DEFAULT_DEFLATE_OPTIONS);

/**
 * Checks a `perMessageDeflate` setting as a caller gave it: `undefined`, a boolean, or an
 * object of known options, each of its type and in its range.
 *
 * @param caller The entry point, as error messages start: `"addHandler()"`.
 * @param name The option's name in messages.
 * @throws {TypeError} For a setting that is neither a boolean nor an object, an unknown
 *   option (naming the nearest known one), or a field of the wrong type.
 * @throws {RangeError} For a number out of its range.
 *
 * @example
 * ```ts
 * import { checkDeflateSetting } from "./deflate_options.ts";
 * checkDeflateSetting("addHandler()", { level: 12 });
 * // RangeError: addHandler(): option "perMessageDeflate.level" must be an integer from 0 to 9, got the number 12
 * ```
 */
export function checkDeflateSetting(
  caller: string,
  setting: unknown,
  name = "perMessageDeflate",
): asserts setting is DeflateSetting | undefined {
  if (setting === undefined || typeof setting === "boolean") return;
  if (!isOptionsObject(setting)) {
    throw optionTypeError(caller, name, "a boolean or an object of DeflateOptions", setting);
  }
  checkOptionNames(caller, setting, NAMES, name);
  for (const key of NAMES) {
    const range = RANGES[key];
    if (range === undefined) checkType(caller, `${name}.${key}`, setting[key], "boolean");
    else checkInteger(caller, `${name}.${key}`, setting[key], range[0], range[1]);
  }
}

/**
 * Resolves `perMessageDeflate` settings given at several levels (the site's, then a
 * route's): the last one given decides whether compression is on, and the fields of
 * every object given apply in order over the defaults.
 *
 * @returns The complete, frozen options, or `undefined` when compression is off.
 * @throws {TypeError} For a setting or field of the wrong type, or an unknown option.
 * @throws {RangeError} For a value out of its range.
 */
export function resolveDeflateOptions(
  ...settings: (DeflateSetting | undefined)[]
): Readonly<DeflateOptions> | undefined {
  let enabled = false;
  const options: DeflateOptions = { ...DEFAULT_DEFLATE_OPTIONS };
  for (const setting of settings) {
    checkDeflateSetting("resolveDeflateOptions()", setting);
    if (setting === undefined) continue;
    enabled = setting !== false;
    if (typeof setting === "boolean") continue;
    for (const key of Object.keys(setting) as (keyof DeflateOptions)[]) {
      const value = setting[key];
      if (value !== undefined) {
        (options as unknown as Record<string, number | boolean>)[key] = value;
      }
    }
  }
  return enabled ? Object.freeze(options) : undefined;
}

/**
 * wsport's permessage-deflate options mapped onto Bun's `perMessageDeflate` presets.
 * @module
 */

import type { DeflateOptions } from "../core/deflate_options.ts";
import { siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";

/** Bun's compressor presets (uWebSockets' `CompressOptions`). */
export type BunCompressor =
  | "disable"
  | "shared"
  | "dedicated"
  | "3KB"
  | "4KB"
  | "8KB"
  | "16KB"
  | "32KB"
  | "64KB"
  | "128KB"
  | "256KB";

/** Bun's `perMessageDeflate` handler option. */
export type BunPerMessageDeflate = false | { compress: BunCompressor; decompress: BunCompressor };

/**
 * uWebSockets' dedicated compressors by window bits: each preset fixes the window and
 * zlib's `memLevel` (3KB is 9 bits with memLevel 1, 4KB 9 bits with 2, ... 256KB is 15
 * bits with 8, the same as "dedicated").
 */
const DEDICATED: Record<number, BunCompressor> = {
  10: "8KB",
  11: "16KB",
  12: "32KB",
  13: "64KB",
  14: "128KB",
  15: "dedicated",
};

/**
 * Maps permessage-deflate options onto Bun's presets, as closely as they go.
 *
 * Bun (uWebSockets) has presets only, so some options are lost:
 * - `serverNoContextTakeover` picks the "shared" compressor, whose window is not kept;
 *   otherwise `serverMaxWindowBits` picks the dedicated preset of that window (8 and 9
 *   bits give "3KB" for `memLevel` 1, "4KB" above), and `memLevel` is the preset's.
 * - `clientNoContextTakeover` picks the "shared" decompressor (uWebSockets then asks
 *   clients for `client_no_context_takeover`); otherwise "dedicated", a 15-bit window:
 *   `clientMaxWindowBits` cannot be set (Bun's sized decompressor presets map onto
 *   compressor values).
 * - `level` is uWebSockets' own; `concurrencyLimit` does not apply, as uWebSockets
 *   compresses on the event loop's thread.
 * - `threshold` is kept: Bun compresses a message only when `send` asks it to.
 *
 * @returns Bun's option: `false` when `options` is `undefined`.
 */
export function bunPerMessageDeflate(
  options: Readonly<DeflateOptions> | undefined,
): BunPerMessageDeflate {
  if (options === undefined) return false;
  const bits = options.serverMaxWindowBits;
  const compress: BunCompressor = options.serverNoContextTakeover
    ? "shared"
    : bits <= 9
    ? (options.memLevel <= 1 ? "3KB" : "4KB")
    : DEDICATED[bits];
  return { compress, decompress: options.clientNoContextTakeover ? "shared" : "dedicated" };
}

/**
 * The options Bun.serve compresses with for a whole site: Bun takes one setting per
 * server, so it is the site's `perMessageDeflate` when on, else that of the first route
 * that turns compression on. Routes that leave it off are kept off by the adapter, which
 * hides their clients' offers from Bun.
 */
export function bunDeflateOptions(site: WebSocketSite): Readonly<DeflateOptions> | undefined {
  if (site.perMessageDeflate !== undefined) return site.perMessageDeflate;
  for (const route of siteInternals(site).routes.values()) {
    if (route.perMessageDeflate !== undefined) return route.perMessageDeflate;
  }
  return undefined;
}

/**
 * Whether a message has at least `threshold` bytes, text counted in UTF-8, encoding it
 * only when its length alone cannot tell (1 to 3 bytes per UTF-16 unit).
 */
export function reachesThreshold(data: string | Uint8Array, threshold: number): boolean {
  if (typeof data !== "string" || data.length >= threshold) return data.length >= threshold;
  return data.length * 3 >= threshold && new TextEncoder().encode(data).length >= threshold;
}

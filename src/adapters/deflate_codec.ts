/**
 * permessage-deflate's compression on `node:zlib` (which Deno and Bun provide too): the
 * {@linkcode MessageCodec} the raw-socket adapter uses.
 * @module
 */

import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type Zlib,
  type ZlibReset,
} from "node:zlib";
import type { Transform } from "node:stream";
import { CloseCode } from "../core/constants.ts";
import type { DeflateOptions } from "../core/deflate_options.ts";
import { WebSocketError } from "../core/errors.ts";
import { concat } from "../core/frame.ts";
import type { MessageCodec } from "../core/message_codec.ts";
import type { PerMessageDeflateAgreement } from "../core/permessage_deflate.ts";
import { Limiter } from "../core/limiter.ts";

/** What RFC 7692 §7.2.1 strips from a compressed message and §7.2.2 appends back. */
const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** A zlib stream: a Transform with zlib's flush, reset and close. */
type ZlibStream = Transform & Zlib & ZlibReset;

/** One limiter per route's options: its connections share the route's concurrency bound. */
const limiters = new WeakMap<Readonly<DeflateOptions>, Limiter>();

function limiterFor(options: Readonly<DeflateOptions>): Limiter {
  let limiter = limiters.get(options);
  if (limiter === undefined) {
    limiter = new Limiter(options.concurrencyLimit);
    limiters.set(options, limiter);
  }
  return limiter;
}

/** A plain `Uint8Array` over zlib's output: messages are never the runtime's Buffer. */
function joined(chunks: Uint8Array[], total: number): Uint8Array {
  const bytes = total === 0 ? new Uint8Array(0) : concat(chunks, total);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Runs one message through a zlib stream made with `flush: Z_SYNC_FLUSH`: one write,
 * which zlib sync-flushes (one trip to zlib's thread rather than a write and a flush),
 * collecting the output with `onData` judging each chunk as it comes out (return an
 * error to stop). Settles once; the stream is destroyed on any error, and a no-op
 * listener stays to swallow anything zlib still reports.
 */
function transform(
  stream: ZlibStream,
  input: Uint8Array,
  onData: (total: number) => WebSocketError | undefined,
  onError: () => WebSocketError,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let settled = false;
    const detach = () => {
      stream.off("data", data);
      stream.off("error", error);
    };
    const fail = (failure: WebSocketError) => {
      if (settled) return;
      settled = true;
      detach();
      stream.on("error", () => {});
      stream.destroy();
      reject(failure);
    };
    const data = (chunk: Uint8Array) => {
      total += chunk.length;
      const failure = onData(total);
      if (failure !== undefined) fail(failure);
      else chunks.push(chunk);
    };
    const error = () => fail(onError());
    stream.on("data", data);
    stream.on("error", error);
    // Deno reports a data error to this callback before the "error" event.
    stream.write(input, (failed?: unknown) => {
      if (failed || stream.destroyed) return fail(onError());
      if (settled) return;
      settled = true;
      detach();
      resolve(joined(chunks, total));
    });
  });
}

const closedError = () => new Error("Cannot use the codec: it is closed");

/**
 * One connection's permessage-deflate codec on `node:zlib` streams (RFC 7692 §7.2).
 *
 * zlib's streams are asynchronous: their work runs off the main thread in Node. Each
 * call waits for a turn from the route's {@linkcode Limiter} (`concurrencyLimit`), so
 * many connections cannot make zlib hold many messages at once. The streams are made on
 * first use and kept for context takeover; without it, each is reset after every
 * message. Decompression stops as soon as its output passes the limit: a small frame
 * that would inflate to gigabytes costs at most the limit plus one 16 KiB zlib chunk.
 *
 * @example Compressing RFC 7692 §7.2.3.1's "Hello"
 * ```ts
 * import { DEFAULT_DEFLATE_OPTIONS } from "../core/deflate_options.ts";
 * import { negotiatePerMessageDeflate } from "../core/permessage_deflate.ts";
 * import { DeflateCodec } from "./deflate_codec.ts";
 * const agreement = negotiatePerMessageDeflate("permessage-deflate", DEFAULT_DEFLATE_OPTIONS)!;
 * const codec = new DeflateCodec(agreement, DEFAULT_DEFLATE_OPTIONS);
 * await codec.compress(new TextEncoder().encode("Hello")); // f2 48 cd c9 c9 07 00
 * codec.close();
 * ```
 */
export class DeflateCodec implements MessageCodec {
  readonly #agreement: PerMessageDeflateAgreement;
  readonly #options: Readonly<DeflateOptions>;
  readonly #limiter: Limiter;
  #deflate: ZlibStream | undefined;
  #inflate: ZlibStream | undefined;
  #closed = false;

  /**
   * @param agreement What the handshake agreed: windows and context takeover.
   * @param options The route's options: `level`, `memLevel` and `concurrencyLimit`.
   */
  constructor(agreement: PerMessageDeflateAgreement, options: Readonly<DeflateOptions>) {
    this.#agreement = agreement;
    this.#options = options;
    this.#limiter = limiterFor(options);
  }

  compress(data: Uint8Array): Promise<Uint8Array> {
    return this.#limiter.run(async () => {
      if (this.#closed) throw closedError();
      const deflate = this.#deflate ??= createDeflateRaw({
        level: this.#options.level,
        memLevel: this.#options.memLevel,
        // zlib has no 8-bit raw window; 9 bits never match further back than 250 bytes.
        windowBits: Math.max(9, this.#agreement.serverMaxWindowBits),
        flush: constants.Z_SYNC_FLUSH,
      }) as ZlibStream;
      const output = await transform(
        deflate,
        data,
        () => undefined,
        () => new WebSocketError(CloseCode.InternalError, "Compression failed"),
      );
      if (this.#agreement.serverNoContextTakeover) deflate.reset();
      // A sync flush always ends with the empty stored block 00 00 ff ff (§7.2.1).
      return output.subarray(0, output.length - TRAILER.length);
    });
  }

  decompress(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
    return this.#limiter.run(async () => {
      if (this.#closed) throw closedError();
      const inflate = this.#inflate ??= this.#newInflate();
      try {
        const input = new Uint8Array(data.length + TRAILER.length);
        input.set(data);
        input.set(TRAILER, data.length);
        const output = await transform(
          inflate,
          input,
          (total) =>
            total > maxBytes
              ? new WebSocketError(CloseCode.MessageTooBig, "Message too big")
              : undefined,
          () => new WebSocketError(CloseCode.InvalidPayload, "Invalid compressed data"),
        );
        if (this.#agreement.clientNoContextTakeover) inflate.reset();
        return output;
      } catch (error) {
        if (this.#inflate === inflate) this.#inflate = undefined;
        throw error;
      }
    });
  }

  close(): void {
    this.#closed = true;
    for (const stream of [this.#deflate, this.#inflate]) {
      if (stream === undefined) continue;
      stream.on("error", () => {});
      stream.destroy();
    }
    this.#deflate = undefined;
    this.#inflate = undefined;
  }

  #newInflate(): ZlibStream {
    const inflate = createInflateRaw({
      windowBits: this.#agreement.clientMaxWindowBits,
      flush: constants.Z_SYNC_FLUSH,
    }) as ZlibStream;
    // A message whose last block has BFINAL set ends the stream (§7.2.3.4): the next
    // message needs a new one.
    inflate.once("end", () => {
      if (this.#inflate === inflate) this.#inflate = undefined;
    });
    return inflate;
  }
}

/**
 * Counting what zlib's raw-DEFLATE decompressors put out, to check that a compression
 * bomb is stopped near its limit rather than inflated whole.
 * @module
 */

import zlib from "node:zlib";

/** Counts the bytes every zlib decompressor in this process puts out, while `body` runs. */
export async function countInflated(body: () => Promise<void>): Promise<number> {
  const prototype = zlib.InflateRaw.prototype as unknown as {
    push(chunk: Uint8Array | null): boolean;
  };
  const push = prototype.push;
  let produced = 0;
  prototype.push = function (this: unknown, chunk: Uint8Array | null) {
    if (chunk !== null) produced += chunk.length;
    return push.call(this, chunk);
  };
  try {
    await body();
  } finally {
    delete (prototype as { push?: unknown }).push;
  }
  return produced;
}

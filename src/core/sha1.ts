/**
 * SHA-1 (FIPS 180-4) in plain, synchronous JavaScript, for `Sec-WebSocket-Accept`.
 * @module
 */

/** Rotates a 32-bit word left by `bits`. */
const rotate = (word: number, bits: number) => (word << bits) | (word >>> (32 - bits));

/**
 * Hashes bytes with SHA-1.
 *
 * The opening handshake hashes one 60-byte string per connection; done here, that takes
 * a microsecond or two, where `crypto.subtle.digest` costs a promise and a job on another
 * thread. SHA-1 serves only the handshake (RFC 6455 §1.3), never security.
 *
 * @param bytes The message.
 * @returns The 20-byte digest.
 *
 * @example
 * ```ts
 * import { sha1 } from "./sha1.ts";
 * sha1(new TextEncoder().encode("abc")); // a9 99 3e 36 47 06 81 6a ba 3e ...
 * ```
 */
export function sha1(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  // The message, a 1 bit, zeros, and the 64-bit bit length, in 512-bit blocks.
  const wordCount = (((length + 8) >>> 6) + 1) * 16;
  const words = new Uint32Array(wordCount);
  for (let i = 0; i < length; i++) words[i >> 2] |= bytes[i] << (24 - (i & 3) * 8);
  words[length >> 2] |= 0x80 << (24 - (length & 3) * 8);
  words[wordCount - 2] = Math.floor(length / 0x20000000);
  words[wordCount - 1] = length << 3;

  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Int32Array(80);
  for (let block = 0; block < wordCount; block += 16) {
    for (let t = 0; t < 16; t++) w[t] = words[block + t];
    for (let t = 16; t < 80; t++) w[t] = rotate(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      const f = t < 20
        ? ((b & c) | (~b & d)) + 0x5a827999
        : t < 40
        ? (b ^ c ^ d) + 0x6ed9eba1
        : t < 60
        ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc
        : (b ^ c ^ d) + 0xca62c1d6;
      const next = (rotate(a, 5) + f + e + w[t]) | 0;
      e = d;
      d = c;
      c = rotate(b, 30);
      b = a;
      a = next;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const digest = new Uint8Array(20);
  const view = new DataView(digest.buffer);
  view.setInt32(0, h0);
  view.setInt32(4, h1);
  view.setInt32(8, h2);
  view.setInt32(12, h3);
  view.setInt32(16, h4);
  return digest;
}

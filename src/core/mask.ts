/**
 * XOR masking of payloads (RFC 6455 §5.3): long payloads through the WebAssembly SIMD
 * kernel where the runtime has one, the rest 32 bits at a time in TypeScript.
 *
 * Inside, a key is one number, its "key word": the four key bytes as a little-endian
 * 32-bit integer, rotated so that its low byte goes with the first byte of the data. A
 * parser keeps a number per connection, not a 4-byte array with a buffer of its own.
 * @module
 */

import { wasmMask } from "./mask_kernel.ts";

/** Whether typed-array views read words little-endian (every platform the runtimes ship on). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Payloads shorter than this are masked byte by byte: a typed-array view costs more. */
const WORD_THRESHOLD = 32;
/**
 * Payloads at least this long go through the WebAssembly kernel, when there is one: below
 * it, copying into the kernel's memory and back costs more than the kernel saves.
 */
const WASM_THRESHOLD = 4096;

/**
 * Masks or unmasks `data` in place with a 4-byte key (the operation is its own inverse).
 *
 * @param data The bytes to transform, changed in place.
 * @param key The 4-byte masking key.
 * @param offset How many bytes of this frame's payload came before `data`, so a payload
 *   that arrives in pieces is unmasked piece by piece.
 *
 * @example Masking and unmasking
 * ```ts
 * import { applyMask } from "./mask.ts";
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * const data = new TextEncoder().encode("Hello");
 * applyMask(data, key); // now 7f 9f 4d 51 58 (RFC 6455 §5.7)
 * applyMask(data, key); // "Hello" again
 * ```
 */
export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  applyMaskWord(data, keyWord(key, offset));
}

/**
 * Masks or unmasks `data` in place with a key word (see the module's notes), as
 * {@linkcode applyMask} does with its key bytes.
 *
 * @example A payload in two pieces, with the key kept as a number
 * ```ts
 * import { applyMaskWord, keyWord, rotateKeyWord } from "./mask.ts";
 * const word = keyWord(new Uint8Array([0x37, 0xfa, 0x21, 0x3d]));
 * const data = new TextEncoder().encode("Hello");
 * applyMaskWord(data.subarray(0, 3), word);
 * applyMaskWord(data.subarray(3), rotateKeyWord(word, 3)); // 7f 9f 4d 51 58
 * ```
 */
export function applyMaskWord(data: Uint8Array, word: number): void {
  if (data.length >= WASM_THRESHOLD) {
    const kernel = wasmMask();
    if (kernel) return kernel(data, word);
  }
  maskWords(data, word);
}

/**
 * A 4-byte key as a key word for data that starts `offset` bytes into the payload.
 *
 * @example
 * ```ts
 * import { keyWord } from "./mask.ts";
 * keyWord(new Uint8Array([1, 2, 3, 4])); // 0x04030201
 * ```
 */
export function keyWord(key: Uint8Array, offset = 0): number {
  return key[offset & 3] | key[(offset + 1) & 3] << 8 | key[(offset + 2) & 3] << 16 |
    key[(offset + 3) & 3] << 24;
}

/**
 * A key word moved on by `offset` bytes of data: for the piece of a payload that starts
 * there.
 *
 * @example
 * ```ts
 * import { rotateKeyWord } from "./mask.ts";
 * rotateKeyWord(0x04030201, 1) >>> 0; // 0x01040302
 * ```
 */
export function rotateKeyWord(word: number, offset: number): number {
  const shift = (offset & 3) << 3;
  return shift === 0 ? word : (word >>> shift) | (word << (32 - shift));
}

/**
 * Masks or unmasks `data` in place with a key word, in TypeScript only: 32 bits at a time
 * where the data allows. {@linkcode applyMaskWord}'s path for short payloads and its
 * fallback where WebAssembly is unavailable.
 *
 * @example The same bytes as applyMask
 * ```ts
 * import { keyWord, maskWords } from "./mask.ts";
 * const data = new TextEncoder().encode("Hello");
 * maskWords(data, keyWord(new Uint8Array([0x37, 0xfa, 0x21, 0x3d]))); // 7f 9f 4d 51 58
 * ```
 */
export function maskWords(data: Uint8Array, word: number): void {
  const length = data.length;
  let i = 0;
  // The key word's low byte goes with data[i]; it turns one byte per byte.
  let turning = word;
  if (length >= WORD_THRESHOLD) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) {
      data[i] ^= turning;
      turning = (turning >>> 8) | (turning << 24);
    }
    // Signed words stay small integers (an unsigned one above 2^31 would be a double), and
    // eight XORs per iteration let the loop run at twice the speed.
    const mask = LITTLE_ENDIAN ? turning | 0 : swapBytes(turning);
    const words = (length - i) >>> 2;
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    const unrolled = words & ~7;
    let w = 0;
    for (; w < unrolled; w += 8) {
      view[w] ^= mask;
      view[w + 1] ^= mask;
      view[w + 2] ^= mask;
      view[w + 3] ^= mask;
      view[w + 4] ^= mask;
      view[w + 5] ^= mask;
      view[w + 6] ^= mask;
      view[w + 7] ^= mask;
    }
    for (; w < words; w++) view[w] ^= mask;
    i += words << 2;
  }
  for (; i < length; i++) {
    data[i] ^= turning;
    turning = (turning >>> 8) | (turning << 24);
  }
}

/** A word with its bytes in the other order. */
function swapBytes(word: number): number {
  return (word >>> 24) | ((word >>> 8) & 0xff00) | ((word << 8) & 0xff0000) | (word << 24);
}

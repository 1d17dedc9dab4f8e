/**
 * XOR masking of payloads (RFC 6455 §5.3): long payloads through the WebAssembly SIMD
 * kernel where the runtime has one, the rest 32 bits at a time in TypeScript.
 * @module
 */

import { wasmMask } from "./mask_kernel.ts";

const wordBytes = new Uint8Array(4);
/** The same four bytes as one word, in the platform's byte order, as typed-array views see. */
const word = new Int32Array(wordBytes.buffer);

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
  if (data.length >= WASM_THRESHOLD) {
    const kernel = wasmMask();
    if (kernel) return kernel(data, key, offset);
  }
  maskWords(data, key, offset);
}

/**
 * Masks or unmasks `data` in place, as {@linkcode applyMask}, in TypeScript only: 32 bits at
 * a time where the data allows. `applyMask`'s path for short payloads and its fallback
 * where WebAssembly is unavailable.
 *
 * @example The same bytes as applyMask
 * ```ts
 * import { maskWords } from "./mask.ts";
 * const data = new TextEncoder().encode("Hello");
 * maskWords(data, new Uint8Array([0x37, 0xfa, 0x21, 0x3d]), 0); // 7f 9f 4d 51 58
 * ```
 */
export function maskWords(data: Uint8Array, key: Uint8Array, offset: number): void {
  const length = data.length;
  let i = 0;
  if (length >= WORD_THRESHOLD) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) data[i] ^= key[(offset + i) & 3];
    const start = offset + i;
    wordBytes[0] = key[start & 3];
    wordBytes[1] = key[(start + 1) & 3];
    wordBytes[2] = key[(start + 2) & 3];
    wordBytes[3] = key[(start + 3) & 3];
    // Signed words stay small integers (an unsigned one above 2^31 would be a double), and
    // eight XORs per iteration let the loop run at twice the speed.
    const mask = word[0];
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
  for (; i < length; i++) data[i] ^= key[(offset + i) & 3];
}

/**
 * The WebAssembly SIMD masking kernel (`wasm/mask.wat`), loaded once on first use, where the
 * runtime allows it.
 * @module
 */

import { MASK_WASM_BASE64 } from "./wasm/mask_wasm.ts";

/** The kernel's memory holds this much; longer payloads are masked in pieces this long. */
const PIECE_BYTES = 256 * 1024;

/** Masks `data` in place with a key word (see `mask.ts`), as `applyMaskWord` does. */
export type MaskFunction = (data: Uint8Array, word: number) => void;

/** The exports of `wasm/mask.wat`. */
interface KernelExports {
  memory: WebAssembly.Memory;
  mask(at: number, length: number, key: number): void;
}

/** The loaded kernel; `null` once loading failed, `undefined` before the first try. */
let loaded: MaskFunction | null | undefined;

/**
 * The WebAssembly kernel as a mask function, or `undefined` where it cannot run: no
 * `WebAssembly`, no SIMD (`WebAssembly.validate` rejects the module), or no compiling of
 * code at run time (Cloudflare Workers throw from `new WebAssembly.Module`). Compiled and
 * instantiated synchronously on the first call, which alone pays for it; later calls return
 * the same function, or `undefined` without trying again.
 *
 * The payload is copied into the kernel's memory and back, which costs more than the
 * TypeScript loop saves on short payloads: `applyMask` uses the kernel only on long ones.
 *
 * @example Masking with the kernel when there is one
 * ```ts
 * import { wasmMask } from "./mask_kernel.ts";
 * const data = new Uint8Array(100_000);
 * wasmMask()?.(data, 0x04030201); // the key 01 02 03 04
 * ```
 */
export function wasmMask(): MaskFunction | undefined {
  if (loaded === undefined) {
    loaded = typeof WebAssembly === "object" ? compileMaskKernel(WebAssembly) ?? null : null;
  }
  return loaded ?? undefined;
}

/**
 * Compiles and instantiates the kernel with the given WebAssembly API (the global one, or
 * a stand-in in tests), synchronously; `undefined` where that API cannot run it. Each call
 * compiles anew: {@linkcode wasmMask} is the cached one.
 *
 * @example Under Cloudflare Workers (workerd), where compiling at run time is forbidden
 * ```ts
 * import { compileMaskKernel } from "./mask_kernel.ts";
 * compileMaskKernel(WebAssembly); // a function here; undefined under workerd
 * ```
 */
export function compileMaskKernel(api: typeof WebAssembly): MaskFunction | undefined {
  try {
    const bytes = Uint8Array.from(atob(MASK_WASM_BASE64), (char) => char.charCodeAt(0));
    if (!api.validate(bytes)) return undefined;
    const instance = new api.Instance(new api.Module(bytes), {});
    const kernel = instance.exports as unknown as KernelExports;
    // The memory has a fixed size (no growing), so this view stays valid.
    const heap = new Uint8Array(kernel.memory.buffer, 0, PIECE_BYTES);
    const mask = kernel.mask;
    return (data, word) => {
      // The key word is little-endian, WebAssembly's byte order on every platform; pieces
      // are multiples of 4 bytes long, so every piece starts with the same rotation.
      const length = data.length;
      for (let at = 0; at < length; at += PIECE_BYTES) {
        const piece = data.subarray(at, at + PIECE_BYTES);
        heap.set(piece);
        mask(0, piece.length, word);
        piece.set(piece.length === PIECE_BYTES ? heap : heap.subarray(0, piece.length));
      }
    };
  } catch {
    // A runtime that forbids compiling at run time (workerd throws "CompileError:
    // WebAssembly.Module(): Wasm code generation disallowed by embedder"), or any other
    // failure: the TypeScript path serves.
    return undefined;
  }
}

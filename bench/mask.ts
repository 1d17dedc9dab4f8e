/**
 * A micro-measure of masking: the TypeScript path against the WebAssembly SIMD kernel
 * (copies into its memory and back included), per payload size, on the runtime that runs it.
 *
 * ```sh
 * npx tsc -p tsconfig.json && node .build/bench/mask.js
 * deno run bench/mask.ts
 * bun bench/mask.ts
 * ```
 *
 * Prints ns per call and GB/s, medians of 7 rounds of about 50 ms per path and size; the
 * sizes around 1 to 8 KiB are where `WASM_THRESHOLD` in `src/core/mask.ts` comes from.
 * @module
 */

import { keyWord, maskWords } from "../src/core/mask.ts";
import { type MaskFunction, wasmMask } from "../src/core/mask_kernel.ts";

const SIZES = [125, 1024, 2048, 3072, 4096, 8192, 16384, 65536, 1024 * 1024];
const ROUNDS = 7;
const ROUND_MS = 50;

const kernel = wasmMask();
if (!kernel) throw new Error("No WebAssembly SIMD kernel on this runtime");
const word = keyWord(new Uint8Array([0x37, 0xfa, 0x21, 0x3d]), 1);

/** ns per call of `mask` on `data`, over about ROUND_MS. */
function measure(mask: MaskFunction, data: Uint8Array): number {
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 64; i++) mask(data, word);
    calls += 64;
    elapsed = performance.now() - started;
  }
  return elapsed * 1e6 / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(`| ${runtime} | bytes | TS ns | WASM ns | TS GB/s | WASM GB/s | WASM/TS speed |`);
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const size of SIZES) {
  const data = new Uint8Array(new ArrayBuffer(size + 16), 3, size).fill(0x55);
  const ts: number[] = [];
  const wasm: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ts.push(measure(maskWords, data));
    wasm.push(measure(kernel, data));
  }
  const t = median(ts);
  const w = median(wasm);
  console.log(
    `| | ${size} | ${t.toFixed(0)} | ${w.toFixed(0)} | ${(size / t).toFixed(2)} | ` +
      `${(size / w).toFixed(2)} | ${(t / w).toFixed(2)}× |`,
  );
}

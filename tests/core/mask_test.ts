import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { applyMask, keyWord, maskWords, rotateKeyWord } from "../../src/core/mask.ts";
import { compileMaskKernel, wasmMask } from "../../src/core/mask_kernel.ts";
import { repoRoot } from "../helpers/paths.ts";
import { randomBytes, seededRandom } from "../helpers/bytes.ts";
import { hex, toHex, utf8 } from "../helpers/frames.ts";

/** The RFC's definition, byte by byte: octet i XOR key[(offset + i) mod 4] (§5.3). */
function referenceMask(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return data.map((byte, i) => byte ^ key[(offset + i) % 4]);
}

describe("RFC 6455 §5.3 client-to-server masking", () => {
  test("applyMask() masks RFC 6455 §5.7's Hello with its key", () => {
    const data = utf8("Hello");
    applyMask(data, hex("37 fa 21 3d"));
    assert.equal(toHex(data), "7f 9f 4d 51 58");
  });

  test("applyMask() is its own inverse", () => {
    const random = seededRandom(7);
    const original = randomBytes(random, 1000);
    const data = original.slice();
    const key = randomBytes(random, 4);
    applyMask(data, key, 3);
    assert.notDeepEqual(data, original);
    applyMask(data, key, 3);
    assert.deepEqual(data, original);
  });

  test("applyMask() equals the byte-by-byte reference at every alignment, offset and length", () => {
    const random = seededRandom(0xa11);
    const key = hex("37 fa 21 3d");
    const lengths = [
      0,
      1,
      2,
      3,
      4,
      5,
      7,
      8,
      28,
      29,
      30,
      31,
      32,
      33,
      34,
      35,
      36,
      63,
      64,
      65,
      1000,
      4099,
    ];
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      for (let offset = 0; offset < 8; offset++) {
        for (const length of lengths) {
          const buffer = randomBytes(random, byteOffset + length + 4);
          const data = buffer.subarray(byteOffset, byteOffset + length);
          const expected = referenceMask(data, key, offset);
          const before = buffer.slice();
          applyMask(data, key, offset);
          const what = `byteOffset ${byteOffset}, offset ${offset}, length ${length}`;
          assert.deepEqual(data, expected, what);
          assert.deepEqual(buffer.subarray(0, byteOffset), before.subarray(0, byteOffset), what);
          assert.deepEqual(
            buffer.subarray(byteOffset + length),
            before.subarray(byteOffset + length),
            `${what}: bytes after the data changed`,
          );
        }
      }
    }
  });

  test("applyMask() with random keys matches the reference for a payload unmasked in pieces", () => {
    const random = seededRandom(99);
    for (let round = 0; round < 50; round++) {
      const key = randomBytes(random, 4);
      const payload = randomBytes(random, 1 + random(300));
      const expected = referenceMask(payload, key, 0);
      const data = payload.slice();
      for (let at = 0; at < data.length;) {
        const size = 1 + random(70);
        applyMask(data.subarray(at, at + size), key, at);
        at += size;
      }
      assert.deepEqual(data, expected, `round ${round}`);
    }
  });

  test("a key word moved on by n bytes is the key word for offset n", () => {
    const random = seededRandom(0x4e7);
    for (let round = 0; round < 20; round++) {
      const key = randomBytes(random, 4);
      for (let offset = 0; offset < 9; offset++) {
        assert.equal(rotateKeyWord(keyWord(key), offset), keyWord(key, offset), `${offset}`);
      }
    }
    assert.equal(keyWord(hex("01 02 03 04")), 0x04030201);
  });

  test("applyMask() uses only the first 4 bytes of a longer key", () => {
    const data = utf8("Hello");
    applyMask(data, hex("37 fa 21 3d ff ff"));
    assert.equal(toHex(data), "7f 9f 4d 51 58");
  });
});

describe("RFC 6455 §5.3 masking through the WebAssembly SIMD kernel", () => {
  test("the kernel loads on this runtime (WebAssembly with SIMD)", () => {
    assert.equal(typeof wasmMask(), "function");
    assert.equal(wasmMask(), wasmMask(), "loaded once");
  });

  test("no kernel where compiling at run time is forbidden, as under Cloudflare Workers", () => {
    // workerd's WebAssembly validates the module, then throws from the constructor.
    const forbidden = {
      ...WebAssembly,
      validate: WebAssembly.validate,
      Module: class {
        constructor() {
          throw new WebAssembly.CompileError(
            "WebAssembly.Module(): Wasm code generation disallowed by embedder",
          );
        }
      },
    } as unknown as typeof WebAssembly;
    assert.equal(compileMaskKernel(forbidden), undefined);
  });

  test("no kernel where WebAssembly has no SIMD (validate() rejects the module)", () => {
    const noSimd = { ...WebAssembly, validate: () => false } as unknown as typeof WebAssembly;
    assert.equal(compileMaskKernel(noSimd), undefined);
  });

  test("the kernel equals the TypeScript path at every 16-byte alignment, offset and length", () => {
    const kernel = wasmMask()!;
    const random = seededRandom(0x5157);
    const lengths = [0, 1, 3, 4, 15, 16, 17, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097];
    for (let byteOffset = 0; byteOffset < 16; byteOffset++) {
      for (let offset = 0; offset < 8; offset++) {
        for (const length of lengths) {
          const key = randomBytes(random, 4);
          const buffer = randomBytes(random, byteOffset + length + 16);
          const data = buffer.subarray(byteOffset, byteOffset + length);
          const expected = buffer.slice();
          maskWords(expected.subarray(byteOffset, byteOffset + length), keyWord(key, offset));
          kernel(data, keyWord(key, offset));
          assert.deepEqual(
            buffer,
            expected,
            `byteOffset ${byteOffset}, offset ${offset}, ${length}`,
          );
        }
      }
    }
  });

  test("the kernel equals the TypeScript path on random lengths up to 3 MiB", () => {
    const kernel = wasmMask()!;
    const random = seededRandom(0xf022);
    const piece = 256 * 1024;
    // Around the kernel's piece size, then random lengths; 40 rounds bound the time.
    const lengths = [piece - 1, piece, piece + 1, 2 * piece + 5, 3 * 1024 * 1024];
    for (let round = 0; round < 40; round++) {
      const length = round < lengths.length ? lengths[round] : random(3 * 1024 * 1024);
      const byteOffset = random(16);
      const offset = random(1 << 20);
      const key = randomBytes(random, 4);
      const buffer = randomBytes(random, byteOffset + length + 16);
      const data = buffer.subarray(byteOffset, byteOffset + length);
      const expected = buffer.slice();
      maskWords(expected.subarray(byteOffset, byteOffset + length), keyWord(key, offset));
      kernel(data, keyWord(key, offset));
      const what = `round ${round}: byteOffset ${byteOffset}, offset ${offset}, length ${length}`;
      assert.ok(equalBytes(buffer, expected), what);
    }
  });

  test("applyMask() gives the same bytes below, at and above the kernel's threshold", () => {
    const random = seededRandom(0x7e5);
    const key = hex("37 fa 21 3d");
    for (let length = 4000; length < 4200; length += 7) {
      for (const offset of [0, 1, 2, 3, 1001]) {
        const data = randomBytes(random, length + 3).subarray(3);
        const expected = referenceMask(data, key, offset);
        applyMask(data, key, offset);
        assert.deepEqual(data, expected, `length ${length}, offset ${offset}`);
      }
    }
  });
});

describe("the WebAssembly masking kernel's build (not an RFC rule)", () => {
  test("src/core/wasm/mask_wasm.ts is assembled from the current mask.wat", () => {
    // Throws, with the script's message, when the checked-in bytes are stale.
    execFileSync("node", ["scripts/build_wasm.mjs", "--check"], { cwd: repoRoot, stdio: "pipe" });
  });
});

/** Whether two byte arrays are equal (faster than deepEqual on megabytes). */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

;; XOR masking of payloads (RFC 6455 §5.3) with WebAssembly SIMD, 64 bytes per iteration.
;;
;; The caller copies a payload into this module's memory, calls `mask` and copies the result
;; back (see ../mask_kernel.ts). Assembled by `node scripts/build_wasm.mjs` into
;; mask_wasm.ts, which holds the bytes; tests/core/mask_test.ts fails when that file is stale.
(module
  ;; 4 pages of 64 KiB: the caller masks longer payloads in pieces of at most 256 KiB.
  (memory (export "memory") 4 4)

  ;; mask(at, length, key): XORs `length` bytes from `at` with `key` repeated, where `key` is
  ;; the masking key's four bytes as a little-endian word, already rotated so that its low
  ;; byte goes with the byte at `at`.
  (func (export "mask") (param $at i32) (param $length i32) (param $key i32)
    (local $end i32)
    (local $wide v128)
    (local.set $wide (i32x4.splat (local.get $key)))
    (local.set $end (i32.add (local.get $at) (local.get $length)))
    ;; 64 bytes at a time.
    (block $done64
      (loop $next64
        (br_if $done64 (i32.gt_u (i32.add (local.get $at) (i32.const 64)) (local.get $end)))
        (v128.store offset=0 (local.get $at)
          (v128.xor (v128.load offset=0 (local.get $at)) (local.get $wide)))
        (v128.store offset=16 (local.get $at)
          (v128.xor (v128.load offset=16 (local.get $at)) (local.get $wide)))
        (v128.store offset=32 (local.get $at)
          (v128.xor (v128.load offset=32 (local.get $at)) (local.get $wide)))
        (v128.store offset=48 (local.get $at)
          (v128.xor (v128.load offset=48 (local.get $at)) (local.get $wide)))
        (local.set $at (i32.add (local.get $at) (i32.const 64)))
        (br $next64)))
    ;; 16 bytes at a time.
    (block $done16
      (loop $next16
        (br_if $done16 (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $at) (v128.xor (v128.load (local.get $at)) (local.get $wide)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next16)))
    ;; 4 bytes at a time.
    (block $done4
      (loop $next4
        (br_if $done4 (i32.gt_u (i32.add (local.get $at) (i32.const 4)) (local.get $end)))
        (i32.store (local.get $at) (i32.xor (i32.load (local.get $at)) (local.get $key)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next4)))
    ;; The last 0 to 3 bytes, each with the key's next byte.
    (block $done1
      (loop $next1
        (br_if $done1 (i32.ge_u (local.get $at) (local.get $end)))
        (i32.store8 (local.get $at) (i32.xor (i32.load8_u (local.get $at)) (local.get $key)))
        (local.set $key (i32.shr_u (local.get $key) (i32.const 8)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $next1)))))

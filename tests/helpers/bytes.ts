/**
 * Reproducible test bytes: a seeded PRNG and the incompressible "noise" built on it, the
 * same on every runtime. It imports nothing from `src/`, so the hand-written conformance
 * client and the compression checks can use it without leaning on wsport's own code.
 * @module
 */

/**
 * A seeded PRNG (mulberry32): the same seed gives the same sequence on every runtime, so
 * a failing randomized test can be replayed.
 * @returns A function giving integers in `[0, bound)`.
 */
export function seededRandom(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(value * bound);
  };
}

/** `length` pseudo-random bytes from `random`. */
export function randomBytes(random: (bound: number) => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random(256);
  return bytes;
}

/**
 * `length` incompressible bytes, the same for the same `length` and `seed` (by default
 * the seed is the length, so `noise(40)` twice gives the same bytes).
 */
export function noise(length: number, seed: number = length): Uint8Array {
  return randomBytes(seededRandom(seed), length);
}

/**
 * A bound on asynchronous jobs running at once.
 * @module
 */

/**
 * Runs asynchronous jobs, at most `limit` at a time; the others wait their turn in the
 * order they came.
 *
 * @example At most two decompressions at once
 * ```ts
 * import { Limiter } from "./limiter.ts";
 * const limiter = new Limiter(2);
 * const result = await limiter.run(() => Promise.resolve(42)); // 42
 * ```
 */
export class Limiter {
  readonly #limit: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  /**
   * @param limit The most jobs running at once, at least 1.
   * @throws {RangeError} When `limit` is not a positive integer.
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`A limiter's limit must be a positive integer, got ${limit}`);
    }
    this.#limit = limit;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `job` once a turn is free; settles as it does. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await job();
    } finally {
      // Hand the turn straight to the next job, or give it back.
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}

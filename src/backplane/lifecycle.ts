/**
 * What both Redis backplanes share besides their message format: the status and its
 * hooks, waits that `close()` can end, the backoff, and the bound on messages waiting
 * for Redis.
 * @module
 */

import { checkInteger, checkType } from "../core/options.ts";

/**
 * Where a Redis backplane stands: connecting for the first time, up (Redis answered its
 * last probe or read in time), down (it did not, or refused a command), or closed.
 */
export type BackplaneStatus = "connecting" | "up" | "down" | "closed";

/** The options both Redis backplanes take, with the same meaning and defaults. */
export interface LifecycleOptions {
  /**
   * How often the backplane checks that Redis answers, and how long it may take: an
   * answer that has not come when the next is due means Redis is down.
   * @default 2_000
   */
  probeIntervalMs?: number;
  /**
   * The first wait before trying again once Redis is down; it doubles on each failed
   * attempt up to `retryMaxMs`.
   * @default 100
   */
  retryMinMs?: number;
  /**
   * The longest wait between attempts.
   * @default 10_000
   */
  retryMaxMs?: number;
  /**
   * Most messages sent to Redis (or, for the streams backplane, waiting to be) and not
   * yet acknowledged; what happens past it is each backplane's own (see each class).
   * @default 1_024
   */
  maxPendingPublishes?: number;
  /**
   * Most bytes of those messages, counted as the Redis client holds them: the length of
   * each message string (its header, then the text, or bytes in base64). A message larger
   * than this still goes when nothing else waits.
   * @default 67_108_864 (64 MiB)
   */
  maxPendingBytes?: number;
  /** Called on each change of the backplane's `status`. */
  onStatus?: (status: BackplaneStatus) => void;
  /**
   * Called with what went wrong (each backplane lists what it reports).
   * @default logs with `console.error`
   */
  onError?: (error: unknown) => void;
}

/** Checks of each shared option, for a backplane's own table of checks. */
export function lifecycleChecks(
  caller: string,
): { [Name in keyof Required<LifecycleOptions>]: (value: unknown) => void } {
  return {
    probeIntervalMs: (value) => checkInteger(caller, "probeIntervalMs", value, 1),
    retryMinMs: (value) => checkInteger(caller, "retryMinMs", value, 1),
    retryMaxMs: (value) => checkInteger(caller, "retryMaxMs", value, 1),
    maxPendingPublishes: (value) => checkInteger(caller, "maxPendingPublishes", value, 1),
    maxPendingBytes: (value) => checkInteger(caller, "maxPendingBytes", value, 1),
    onStatus: (value) => checkType(caller, "onStatus", value, "function"),
    onError: (value) => checkType(caller, "onError", value, "function"),
  };
}

/**
 * A backplane's status, its waits, its backoff and its count of messages waiting for
 * Redis: the one owner of each, so the two backplanes cannot drift apart.
 */
export class Lifecycle {
  readonly probeIntervalMs: number;
  readonly maxPendingPublishes: number;
  readonly maxPendingBytes: number;
  readonly onError: (error: unknown) => void;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #onStatus: (status: BackplaneStatus) => void;
  #status: BackplaneStatus = "connecting";
  /** Messages waiting for Redis, and their length. */
  #pending = 0;
  #pendingBytes = 0;
  #overflowing = false;
  /** Ends the wait under way, for close(). */
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Takes the shared options, already checked, with their defaults. */
  constructor(options: LifecycleOptions) {
    this.probeIntervalMs = options.probeIntervalMs ?? 2_000;
    this.#retryMinMs = options.retryMinMs ?? 100;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.maxPendingPublishes = options.maxPendingPublishes ?? 1_024;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 ** 2;
    this.#onStatus = options.onStatus ?? (() => {});
    this.onError = options.onError ?? ((error) => console.error("wsport backplane:", error));
  }

  get status(): BackplaneStatus {
    return this.#status;
  }

  get closed(): boolean {
    return this.#status === "closed";
  }

  /** Sets the status, calling `onStatus` on a change; nothing changes once closed. */
  set(status: BackplaneStatus): void {
    if (this.#status === status || this.#status === "closed") return;
    this.#status = status;
    if (status === "down") this.#overflowing = false;
    this.#onStatus(status);
  }

  /** Closes, ending the wait under way. */
  close(): void {
    this.set("closed");
    this.#wake?.();
  }

  /** Waits `ms`, or less if closed meanwhile. */
  sleep(ms: number): Promise<void> {
    return this.wait<void>((resolve) => {
      this.#timer = setTimeout(resolve, ms);
      unref(this.#timer);
      return resolve;
    });
  }

  /**
   * Waits for what `start` sets up; `start` returns how to end the wait early (close()
   * calls it). Resolves with what it resolved with.
   */
  wait<T>(start: (resolve: (value: T) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#wake = start(resolve);
      if (this.closed) this.#wake();
    }).finally(() => {
      clearTimeout(this.#timer);
      this.#wake = undefined;
    });
  }

  /** Starts the timer a {@linkcode Lifecycle.wait} clears when it ends. */
  timer(ms: number, then: () => void): void {
    this.#timer = setTimeout(then, ms);
    unref(this.#timer);
  }

  /** The wait before attempt `attempt` + 1: doubling, capped, with jitter. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** Math.min(attempt, 30));
    return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
  }

  /** How many messages wait for Redis, and their length. */
  get pending(): { messages: number; bytes: number } {
    return { messages: this.#pending, bytes: this.#pendingBytes };
  }

  /** Whether a message of `length` fits under both bounds. */
  fits(length: number): boolean {
    if (this.#pending >= this.maxPendingPublishes) return false;
    return this.#pending === 0 || this.#pendingBytes + length <= this.maxPendingBytes;
  }

  /** Counts a message of `length` as waiting. */
  hold(length: number): void {
    this.#pending++;
    this.#pendingBytes += length;
  }

  /** Counts a message of `length` as gone; clears the overflow once none waits. */
  release(length: number): void {
    this.#pendingBytes -= length;
    if (--this.#pending === 0) this.#overflowing = false;
  }

  /** Reports, once until the backlog clears or Redis goes down, that `what` happens. */
  overflow(what: string): void {
    if (this.#overflowing) return;
    this.#overflowing = true;
    this.onError(
      new Error(
        `${this.#pending} messages (${this.#pendingBytes} bytes) are waiting for Redis: ${what}`,
      ),
    );
  }
}

/** Lets the process exit while the timer waits (Node and Bun; Deno's timers are numbers). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

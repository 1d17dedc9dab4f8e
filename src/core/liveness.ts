/**
 * Deadlines of an open connection (heartbeat, idle, close handshake), computed from the
 * time values the I/O layer passes in.
 * @module
 */

import type { Limits } from "./limits.ts";

/** What a connection must do when {@linkcode Liveness.due} finds a deadline passed. */
export type LivenessAction = "ping" | "heartbeat-timeout" | "idle-timeout" | "close-timeout";

/**
 * Tracks when a connection last heard from its peer and which deadline comes next.
 *
 * It owns no timer: the I/O layer asks {@linkcode Liveness.nextDeadline} when to call
 * back, and the connection calls {@linkcode Liveness.due} then.
 *
 * @example
 * ```ts
 * import { Liveness } from "./liveness.ts";
 * import { resolveLimits } from "./limits.ts";
 * const liveness = new Liveness(resolveLimits({ heartbeatIntervalMs: 1000 }), 0);
 * liveness.nextDeadline(); // 1000
 * liveness.due(1000);      // "ping"
 * ```
 */
export class Liveness {
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  #lastReceivedAt: number;
  #lastMessageAt: number;
  #pingSentAt = -1;
  #closing = false;
  #closeDeadline = Infinity;

  /**
   * @param limits The timeouts to apply.
   * @param now The current time in milliseconds.
   */
  constructor(limits: Readonly<Limits>, now: number) {
    this.#heartbeatIntervalMs = limits.heartbeatIntervalMs;
    this.#heartbeatTimeoutMs = limits.heartbeatTimeoutMs;
    this.#idleTimeoutMs = limits.idleTimeoutMs;
    this.#closeTimeoutMs = limits.closeTimeoutMs;
    this.#lastReceivedAt = now;
    this.#lastMessageAt = now;
  }

  /** Notes that bytes arrived from the peer: it is alive. */
  received(now: number): void {
    this.#lastReceivedAt = now;
    this.#pingSentAt = -1;
  }

  /** Notes that a data message arrived: the connection is not idle. */
  messageReceived(now: number): void {
    this.#lastMessageAt = now;
  }

  /**
   * Starts the close-handshake deadline (once; later calls keep the first). From now on
   * the heartbeat and idle timers are off, even when `closeTimeoutMs` is 0.
   */
  closeStarted(now: number): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#closeTimeoutMs > 0) this.#closeDeadline = now + this.#closeTimeoutMs;
  }

  /** The earliest time at which {@linkcode Liveness.due} may have something to do. */
  nextDeadline(): number {
    if (this.#closing) return this.#closeDeadline;
    let next = Infinity;
    if (this.#heartbeatIntervalMs > 0) {
      next = this.#pingSentAt < 0
        ? this.#lastReceivedAt + this.#heartbeatIntervalMs
        : this.#pingSentAt + this.#heartbeatTimeoutMs;
    }
    if (this.#idleTimeoutMs > 0) next = Math.min(next, this.#lastMessageAt + this.#idleTimeoutMs);
    return next;
  }

  /**
   * Returns the action whose deadline has passed at `now`, if any. A `"ping"` is noted as
   * sent, so the next call waits for its answer.
   */
  due(now: number): LivenessAction | undefined {
    if (this.#closing) {
      return now >= this.#closeDeadline ? "close-timeout" : undefined;
    }
    if (this.#idleTimeoutMs > 0 && now >= this.#lastMessageAt + this.#idleTimeoutMs) {
      return "idle-timeout";
    }
    if (this.#heartbeatIntervalMs > 0) {
      if (this.#pingSentAt < 0) {
        if (now >= this.#lastReceivedAt + this.#heartbeatIntervalMs) {
          this.#pingSentAt = now;
          return "ping";
        }
      } else if (now >= this.#pingSentAt + this.#heartbeatTimeoutMs) {
        return "heartbeat-timeout";
      }
    }
    return undefined;
  }
}

/**
 * Deadlines of an open connection (heartbeat, idle, close handshake), computed from the
 * time values the I/O layer passes in.
 * @module
 */

import { CloseCode } from "./constants.ts";
import type { Limits } from "./limits.ts";

/**
 * What a connection must do when {@linkcode Liveness.due} finds a deadline passed, with
 * the close code and reason to use: the one place these are decided, for the core
 * `Connection` and for the links over a runtime's native WebSocket alike.
 */
export type LivenessAction =
  /** Send a heartbeat ping (empty). */
  | { readonly type: "ping" }
  /** Start the closing handshake with this code and reason (the idle timeout). */
  | { readonly type: "close"; readonly code: number; readonly reason: string }
  /**
   * Fail the connection at once (RFC 6455 §7.1.7): send a Close frame with this code
   * unless one was sent, and drop TCP. For the heartbeat timeout (1001); for the close
   * timeout the code is 1006, which is reported, never sent.
   */
  | { readonly type: "fail"; readonly code: number; readonly reason: string };

const PING: LivenessAction = Object.freeze({ type: "ping" });
const IDLE_TIMEOUT: LivenessAction = Object.freeze({
  type: "close",
  code: CloseCode.GoingAway,
  reason: "Idle timeout",
});
const HEARTBEAT_TIMEOUT: LivenessAction = Object.freeze({
  type: "fail",
  code: CloseCode.GoingAway,
  reason: "Heartbeat timeout",
});
const CLOSE_TIMEOUT: LivenessAction = Object.freeze({
  type: "fail",
  code: CloseCode.AbnormalClosure,
  reason: "Close handshake timed out",
});

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
 * liveness.due(1000);      // { type: "ping" }
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
   * Returns the action whose deadline has passed at `now`, if any: a ping at the
   * heartbeat interval (noted as sent, so the next call waits for its answer), a close
   * with 1001 "Idle timeout", a failure with 1001 "Heartbeat timeout" when the ping went
   * unanswered, or a failure with 1006 "Close handshake timed out".
   */
  due(now: number): LivenessAction | undefined {
    if (this.#closing) {
      return now >= this.#closeDeadline ? CLOSE_TIMEOUT : undefined;
    }
    if (this.#idleTimeoutMs > 0 && now >= this.#lastMessageAt + this.#idleTimeoutMs) {
      return IDLE_TIMEOUT;
    }
    if (this.#heartbeatIntervalMs > 0) {
      if (this.#pingSentAt < 0) {
        if (now >= this.#lastReceivedAt + this.#heartbeatIntervalMs) {
          this.#pingSentAt = now;
          return PING;
        }
      } else if (now >= this.#pingSentAt + this.#heartbeatTimeoutMs) {
        return HEARTBEAT_TIMEOUT;
      }
    }
    return undefined;
  }
}

/**
 * Every limit and timeout wsport enforces, with its default, in one place.
 * @module
 */

/**
 * Limits on what a peer may make a server hold, and how long it may take.
 *
 * A value of `0` for a `...Ms` field turns that timer off.
 */
export interface Limits {
  /**
   * Largest message (all fragments together) accepted; a larger one closes with 1009,
   * decided from the frame header before the payload is buffered.
   * @default 16 MiB (16_777_216)
   */
  maxMessageBytes: number;
  /**
   * Largest single frame payload accepted; a larger one closes with 1009.
   * @default the same as `maxMessageBytes`
   */
  maxFrameBytes: number;
  /**
   * Bytes that may wait to be sent to one peer. Above it the slow reader is closed with
   * 1008 ("send buffer overflow") and its pending bytes are dropped.
   * @default 16 MiB (16_777_216)
   */
  maxSendBufferBytes: number;
  /**
   * Send-buffer level above which a raw socket stops reading from its peer until the
   * buffer drains: a peer that sends but never reads is slowed, not buffered.
   * @default 1 MiB (1_048_576)
   */
  sendPauseBytes: number;
  /**
   * Largest HTTP request head (request line and headers) accepted on raw sockets; a
   * larger one gets 431.
   * @default 16 KiB (16_384)
   */
  maxHeaderBytes: number;
  /**
   * Most HTTP request headers accepted on raw sockets; more get 431.
   * @default 100
   */
  maxHeaderCount: number;
  /**
   * Time a raw-socket client has to send a complete request head (an opening handshake,
   * or the next request on a kept-alive connection), and the site (its `onUpgrade` hook)
   * to decide on an upgrade; also the longest a request body may stop arriving. Past it
   * the socket is dropped (against slow-loris).
   * @default 10_000
   */
  handshakeTimeoutMs: number;
  /**
   * Time the peer has to answer our Close frame (or to close TCP after it) before the
   * connection is dropped and reported as 1006; on raw sockets, also the time a peer
   * whose upgrade was refused (or answered with plain HTTP) has to close its side.
   * @default 10_000
   */
  closeTimeoutMs: number;
  /**
   * Time an HTTP response on a raw socket (plain HTTP, or the answer to a refused
   * upgrade) may wait for the peer to read any more of it; past it the socket is dropped
   * and the body cancelled (a file response releases its file).
   * @default 30_000
   */
  writeTimeoutMs: number;
  /**
   * Interval between heartbeat pings sent on a quiet connection; `0` disables them.
   * @default 20_000
   */
  heartbeatIntervalMs: number;
  /**
   * Time the peer has to answer a heartbeat ping (with a pong, or any frame) before
   * the connection is closed with 1001 ("heartbeat timeout").
   * @default 20_000
   */
  heartbeatTimeoutMs: number;
  /**
   * Time with no data message received from the peer after which the connection is
   * closed with 1001 ("Idle timeout"); `0` disables it. Only received messages count, as
   * in Bun: a peer that only listens to broadcasts is idle. Off by default: the heartbeat already
   * finds dead peers, and quiet live peers are normal for WebSockets.
   * @default 0
   */
  idleTimeoutMs: number;
  /**
   * Bytes of received messages that may wait while an async `frameReceived` runs. Raw
   * sockets stop reading at this mark; native adapters, which cannot, close with 1008.
   * @default 16 MiB (16_777_216)
   */
  maxReceiveQueueBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The default limits: bounded memory and timeouts on every phase.
 *
 * @example Overriding one limit
 * ```ts
 * import { resolveLimits } from "./limits.ts";
 * const limits = resolveLimits({ maxMessageBytes: 1024 * 1024 });
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxMessageBytes: 16 * MiB,
  maxFrameBytes: 16 * MiB,
  maxSendBufferBytes: 16 * MiB,
  sendPauseBytes: MiB,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
  writeTimeoutMs: 30_000,
  heartbeatIntervalMs: 20_000,
  heartbeatTimeoutMs: 20_000,
  idleTimeoutMs: 0,
  maxReceiveQueueBytes: 16 * MiB,
});

/** Every set of limits {@linkcode resolveLimits} returned. */
const RESOLVED = new WeakSet<object>();

/**
 * Merges overrides onto the defaults and checks each value.
 *
 * @param overrides Limits to change; `undefined` fields keep their default.
 * @returns A frozen, complete set of limits.
 * @throws {RangeError} When a value is negative, not an integer, or a size is zero.
 */
export function resolveLimits(overrides: Partial<Limits> = {}): Readonly<Limits> {
  // Limits resolved once (a route's) are shared by its connections, not copied for each.
  if (RESOLVED.has(overrides)) return overrides as Readonly<Limits>;
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(overrides) as (keyof Limits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`Unknown limit "${key}"`);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Limit "${key}" must be a non-negative integer, got ${value}`);
    }
    if (!key.endsWith("Ms") && value === 0) {
      throw new RangeError(`Limit "${key}" must be at least 1, got 0`);
    }
    limits[key] = value;
  }
  if (overrides.maxFrameBytes === undefined) limits.maxFrameBytes = limits.maxMessageBytes;
  Object.freeze(limits);
  RESOLVED.add(limits);
  return limits;
}

/**
 * Every limit and timeout wsport enforces, with its default, in one place.
 * @module
 */

/**
 * Limits on what a peer may make a server hold, and how long it may take.
 *
 * A value of `0` for a `...Ms` field turns that timer off. Sizes are whole numbers of
 * bytes, at least 1. Fields left out take their default; some defaults follow other
 * fields (noted on each), so the limits agree whatever is overridden:
 *
 * - `maxFrameBytes` ≤ `maxMessageBytes` (a frame is part of a message).
 * - `sendPauseBytes` ≤ `maxSendBufferBytes` (reading pauses before the peer is dropped).
 * - By default `maxSendBufferBytes` ≥ `maxMessageBytes` + 2 × `sendPauseBytes`: a message
 *   of exactly `maxMessageBytes` can always be written back, even on top of the
 *   `sendPauseBytes` a raw socket may already hold, with room for frame headers. Set
 *   lower by hand, an echo of a message that large can fail with 1008.
 * - By default `maxReceiveQueueBytes` ≥ `maxMessageBytes`: a whole message can wait for a
 *   busy async handler, where the runtime cannot stop reading, without a 1008.
 *
 * {@linkcode resolveLimits} throws a `RangeError` naming both fields when set values break
 * the first two rules.
 *
 * What one peer can make a server hold at most, per connection (raw-socket adapter; the
 * buffers behind the counted bytes, see `Connection.retainedInputBytes`; "one read" is
 * 64 KiB on Node and Deno, up to 512 KiB on Bun):
 *
 * - handshake: `maxHeaderBytes` plus one read, for `handshakeTimeoutMs`;
 * - a message being received: 2 × `maxMessageBytes` + one read (fragments and pieces of
 *   frames are copied, or kept as views only of reads they fill at least half of; empty
 *   fragments cost nothing, so there is no fragment count limit);
 * - messages waiting for an async `frameReceived`: 2 × (`maxReceiveQueueBytes` +
 *   `maxMessageBytes` + one read): reading pauses past the mark, and what the current read
 *   completes still joins the queue; each message counts 512 bytes besides its own, so
 *   empty ones fill it too;
 * - bytes to send, replies the core makes itself (pongs, Close) included: reading pauses
 *   once the socket holds more than `sendPauseBytes` (counting what queued writes pin and
 *   cost), and the connection fails with 1008 once more than `maxSendBufferBytes` waits,
 *   so at most `maxSendBufferBytes` plus the last write;
 * - a compressed message: `maxMessageBytes` once inflated, plus one read waiting behind it.
 *
 * With the defaults: 16 KiB and a read before the upgrade; 32 MiB for a message in
 * progress, 18 MiB to send (an echo handler: about 50 MiB), and 64 MiB more with an
 * async handler that falls behind.
 */
export interface Limits {
  /**
   * Largest message (all fragments together) accepted; a larger one closes with 1009,
   * decided from the frame header before the payload is buffered. A peer can make a
   * connection hold at most twice this for a message in progress.
   * @default 16 MiB (16_777_216)
   */
  maxMessageBytes: number;
  /**
   * Largest single frame payload accepted; a larger one closes with 1009. At most
   * `maxMessageBytes` (a `RangeError` otherwise).
   * @default the same as `maxMessageBytes`
   */
  maxFrameBytes: number;
  /**
   * Bytes that may wait to be sent to one peer: frames not yet written and what the socket
   * holds for them (on raw sockets, what queued writes pin and cost besides their bytes).
   * Once a write, a published message or a reply of the core's own (pong, Close) leaves
   * more than this, the slow reader is closed with 1008 ("send buffer overflow") and its
   * pending bytes are dropped.
   * @default the larger of 16 MiB and `maxMessageBytes` + 2 × `sendPauseBytes`: 18 MiB
   *   (18_874_368) with the other defaults
   */
  maxSendBufferBytes: number;
  /**
   * Send-buffer level above which a raw socket stops reading from its peer until the
   * buffer drains: a peer that sends but never reads (pings included) is slowed, not
   * buffered. At most `maxSendBufferBytes` (a `RangeError` otherwise).
   * @default 1 MiB (1_048_576), or `maxSendBufferBytes` when that is set lower
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
   * Each waiting message counts its bytes and 512 more (what a runtime holds for it
   * besides them), and one that is a small part of a larger read is copied, so the queue
   * holds at most twice what it counts.
   * @default the larger of 16 MiB (16_777_216) and `maxMessageBytes`
   */
  maxReceiveQueueBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The default limits: bounded memory and timeouts on every phase. Fields whose default
 * follows another (see {@linkcode Limits}) hold the value they take with the others at
 * their defaults.
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
  maxSendBufferBytes: 18 * MiB,
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

/**
 * The defaults of the site's `replay` option (`ReplayOptions`): how many published
 * messages a site keeps per topic, and how many bytes they may hold over all topics
 * (counted as `ReplayOptions.maxBytes` says), for `transport.subscribe(topic, { since })`.
 */
export const DEFAULT_REPLAY: Readonly<{ maxMessages: number; maxBytes: number }> = Object
  .freeze({ maxMessages: 256, maxBytes: 8 * MiB });

/** The floor of the sizes whose default follows `maxMessageBytes`. */
const SIZE_FLOOR = 16 * MiB;

/** Every set of limits {@linkcode resolveLimits} returned. */
const RESOLVED = new WeakSet<object>();

/**
 * Merges overrides onto the defaults and checks each value, and how they fit together.
 *
 * @param overrides Limits to change; `undefined` fields keep their default. Fields whose
 *   default follows another field are worked out from the merged values (see
 *   {@linkcode Limits}).
 * @returns A frozen, complete set of limits.
 * @throws {TypeError} When `overrides` is not an object, names a field that is not a
 *   limit, or gives a value that is not a number.
 * @throws {RangeError} When a value is negative, not an integer, or a size is zero; or
 *   when `maxFrameBytes` exceeds `maxMessageBytes` or `sendPauseBytes` exceeds
 *   `maxSendBufferBytes`.
 */
export function resolveLimits(overrides: Partial<Limits> = {}): Readonly<Limits> {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new TypeError(
      `Limits must be an object such as { maxMessageBytes: 1048576 }, got ${describe(overrides)}`,
    );
  }
  // Limits resolved once (a route's) are shared by its connections, not copied for each.
  if (RESOLVED.has(overrides)) return overrides as Readonly<Limits>;
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(overrides) as (keyof Limits)[]) {
    const value: unknown = overrides[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
      throw new TypeError(
        `Unknown limit "${key}"; the limits are ${Object.keys(DEFAULT_LIMITS).join(", ")}`,
      );
    }
    if (typeof value !== "number") {
      throw new TypeError(`Limit "${key}" must be a number, got ${describe(value)}`);
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Limit "${key}" must be a non-negative integer, got ${value}`);
    }
    if (!key.endsWith("Ms") && value === 0) {
      throw new RangeError(`Limit "${key}" must be at least 1, got 0`);
    }
    limits[key] = value;
  }
  const set = (key: keyof Limits) => overrides[key] !== undefined;
  const message = limits.maxMessageBytes;
  if (!set("maxFrameBytes")) limits.maxFrameBytes = message;
  if (!set("sendPauseBytes") && set("maxSendBufferBytes")) {
    limits.sendPauseBytes = Math.min(DEFAULT_LIMITS.sendPauseBytes, limits.maxSendBufferBytes);
  }
  if (!set("maxSendBufferBytes")) {
    limits.maxSendBufferBytes = Math.max(SIZE_FLOOR, message + 2 * limits.sendPauseBytes);
  }
  if (!set("maxReceiveQueueBytes")) {
    limits.maxReceiveQueueBytes = Math.max(SIZE_FLOOR, message);
  }
  checkAtMost(limits, "maxFrameBytes", "maxMessageBytes", "a frame is part of a message");
  checkAtMost(
    limits,
    "sendPauseBytes",
    "maxSendBufferBytes",
    "reading must pause before the peer is dropped",
  );
  Object.freeze(limits);
  RESOLVED.add(limits);
  return limits;
}

/** Throws a RangeError naming both limits unless `limits[low] <= limits[high]`. */
function checkAtMost(
  limits: Limits,
  low: keyof Limits,
  high: keyof Limits,
  why: string,
): void {
  if (limits[low] > limits[high]) {
    throw new RangeError(
      `Limit "${low}" (${limits[low]}) must not exceed "${high}" (${limits[high]}): ${why}`,
    );
  }
}

/** A value for an error message: its type, and itself when short. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object" || typeof value === "function") return `a ${typeof value}`;
  return `${typeof value} ${String(value)}`;
}

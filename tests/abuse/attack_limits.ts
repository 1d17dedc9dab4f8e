/**
 * The limits of the attack server, and the memory bounds the abuse tests derive from them.
 * @module
 */

const MiB = 1024 * 1024;

/**
 * The attack server's limits: small, so that the bounds are tight and the attacks short.
 * `maxSendBufferBytes` leaves room for a whole message and its header, so the server can
 * always write back a message of exactly `maxMessageBytes`.
 */
export const ATTACK_LIMITS = {
  maxMessageBytes: MiB,
  maxSendBufferBytes: 2 * MiB,
  sendPauseBytes: 256 * 1024,
  maxReceiveQueueBytes: MiB,
  handshakeTimeoutMs: 1_000,
  closeTimeoutMs: 500,
  writeTimeoutMs: 2_000,
} as const;

/**
 * What the attack server keeps of published messages for replay: the default count per
 * topic, and 32 MiB, enough that a charge too low by a few times shows against the noise.
 */
export const ATTACK_REPLAY = { maxMessages: 256, maxBytes: 32 * MiB } as const;

/** The Redis channel of the attack server's backplane. */
export const BACKPLANE_CHANNEL = "wsport-abuse";

/**
 * What a server process's resident size may move by with nothing retained, after a
 * forced garbage collection: allocator and JIT caches, pages the runtime keeps. Measured
 * below 10 MiB on Node 20, Deno and Bun, but up to +28 MiB on Node 24 for an attack whose
 * JavaScript heap grew by 0.1 MiB (2.8, 18 and 28 MiB in three runs of the same one);
 * every attack these checks catch grew the server by 74 MiB or more before it was fixed.
 */
export const BASELINE_NOISE_BYTES: number = 40 * MiB;

/** A byte count in MiB, one decimal: "12.3 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export { MiB };

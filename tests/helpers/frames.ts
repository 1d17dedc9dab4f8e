/**
 * Byte and frame helpers for the core's unit tests: hex literals, masked frames, decoding
 * what a connection queued to send, and asserting how a connection failed.
 * @module
 */

import assert from "node:assert/strict";
import type { Connection, ConnectionEvent } from "../../src/core/connection.ts";
import {
  buildFrame,
  type BuildFrameOptions,
  concat,
  type Frame,
  FrameParser,
} from "../../src/core/frame.ts";

export { randomBytes, seededRandom } from "./bytes.ts";

/** Bytes from hex, spaces allowed: `hex("81 05 48 65")`. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) {
    throw new TypeError(`Not hex: ${text}`);
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

/** Bytes as lower-case hex, one space between bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

/** Joins byte arrays into a new one (the core's `concat`, always a copy). */
export function join(...parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0].slice() : concat(parts);
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Cuts `bytes` into copies of random sizes in `[1, maxChunk]`. The copies matter: the
 * parser and the connection unmask what they are given in place.
 */
export function randomChunks(
  bytes: Uint8Array,
  random: (bound: number) => number,
  maxChunk: number,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + random(maxChunk);
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  return chunks;
}

/** Cuts `bytes` into one-byte copies. */
export function byteByByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (byte) => Uint8Array.of(byte));
}

/** The masking key of RFC 6455 §5.7's examples, used for every client frame in tests. */
export const KEY: Uint8Array = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** A frame as a client sends it: masked with {@linkcode KEY}. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  options: Omit<BuildFrameOptions, "mask"> = {},
): Uint8Array {
  const bytes = typeof payload === "string" ? utf8(payload) : payload;
  return buildFrame(opcode, bytes, { ...options, mask: KEY });
}

/** Every frame in `chunks`, parsed as `role` would, failing on leftover bytes. */
export function parseFrames(chunks: Uint8Array[], role: "server" | "client"): Frame[] {
  const parser = new FrameParser({ role, maxFrameBytes: Number.MAX_SAFE_INTEGER });
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    parser.push(chunk.slice());
    for (let frame; (frame = parser.next()) !== undefined;) frames.push(frame);
  }
  if (parser.bufferedBytes !== 0) {
    throw new Error(`${parser.bufferedBytes} bytes left after the last whole frame`);
  }
  return frames;
}

/** The frames a server-role connection queued, taken from it and decoded. */
export function sentFrames(connection: Connection): Frame[] {
  return parseFrames(connection.takeOutput(), "client");
}

/** A Close frame's payload as code and reason, or `undefined` code when it is empty. */
export function decodeClose(payload: Uint8Array): { code?: number; reason: string } {
  if (payload.length === 0) return { reason: "" };
  return {
    code: (payload[0] << 8) | payload[1],
    reason: new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2)),
  };
}

/** Feeds `chunks` to a connection one by one and gathers every event, in order. */
export function feed(
  connection: Connection,
  chunks: Uint8Array[],
  now = 0,
): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (const chunk of chunks) events.push(...connection.receive(chunk, now));
  return events;
}

/** The one Close frame the connection queued, decoded; fails on any other frame. */
export function sentClose(connection: Connection): { code?: number; reason: string } {
  const frames = sentFrames(connection);
  assert.equal(
    frames.length,
    1,
    `expected one Close frame, got opcodes ${frames.map((f) => f.opcode)}`,
  );
  assert.equal(frames[0].opcode, 0x8);
  assert.equal(frames[0].fin, true);
  return decodeClose(frames[0].payload);
}

/**
 * Asserts that the connection failed: its events end with a close of `code` and
 * `reason`, not clean, and the only frame it queued is a Close frame with the same.
 */
export function assertFailed(
  connection: Connection,
  events: readonly ConnectionEvent[],
  code: number,
  reason: string,
): void {
  assert.deepEqual(events.at(-1), { type: "close", info: { code, reason, wasClean: false } });
  assert.equal(events.filter((event) => event.type === "close").length, 1);
  assert.equal(connection.state, "closed");
  assert.deepEqual(connection.closeInfo, { code, reason, wasClean: false });
  assert.deepEqual(sentClose(connection), { code, reason });
}

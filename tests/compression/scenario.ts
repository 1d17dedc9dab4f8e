/**
 * What the compression interop tests share: the pairs that can compress, an echo site
 * per configuration, the messages echoed, and the checks on what the tap saw.
 * @module
 */

import assert from "node:assert/strict";
import type { DeflateSetting } from "../../src/core/deflate_options.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Echo, type Pair, pairs } from "../helpers/server.ts";
import type { Tap } from "./tap.ts";

/**
 * The adapters of this runtime that compress: the Node adapter everywhere and Bun.serve
 * (Deno.serve cannot: its WebSocket has no extensions).
 */
export const compressingPairs: readonly Pair[] = pairs.filter((pair) => pair.adapter !== "deno");

/** A server configuration to run a client against, and what the 101 must answer. */
export interface Configuration {
  name: string;
  setting: DeflateSetting;
}

/** The configurations every client is run against. */
export const configurations: readonly Configuration[] = [
  { name: "context takeover", setting: true },
  {
    name: "no context takeover",
    setting: { serverNoContextTakeover: true, clientNoContextTakeover: true },
  },
  { name: "smaller windows", setting: { serverMaxWindowBits: 10, clientMaxWindowBits: 11 } },
];

/** The echo route's path. */
export const PATH = "/echo";

/** An echo site compressing with `setting`; messages up to 1 MiB. */
export function echoSite(setting: DeflateSetting): WebSocketSite {
  const site = new WebSocketSite(undefined, { onError: () => {} });
  site.addHandler(PATH, Echo, { perMessageDeflate: setting, maxMessageBytes: 1 << 20 });
  return site;
}

/** Compressible bytes: a short pattern over and over. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i % 7) * 31;
  return bytes;
}

/** Incompressible bytes. */
function noise(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = 7;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/**
 * The messages each client sends and expects back, in order: short and long text
 * (multi-byte too), compressible and incompressible binary, and empty messages. The
 * Python and browser clients build the same list themselves.
 */
export const MESSAGES: readonly (string | Uint8Array)[] = [
  "Hello",
  "Grüße, 世界 😀 ".repeat(200),
  "x".repeat(100_000),
  pattern(5000),
  noise(3000),
  "Hello",
  "",
  new Uint8Array(0),
  JSON.stringify({ type: "chat", user: "ada", text: "lorem ipsum ".repeat(150) }),
];

/** Asserts messages came back equal, in order. */
export function assertEchoed(received: readonly (string | Uint8Array)[]): void {
  assert.equal(received.length, MESSAGES.length);
  MESSAGES.forEach((sent, index) => {
    assert.deepEqual(received[index], sent, `message ${index}`);
  });
}

/**
 * Asserts what the tap saw: the server compressed what reached the threshold (1024
 * bytes) and nothing smaller, the client's compressed frames were taken, and the
 * compressed traffic was smaller than the messages.
 */
export function assertCompressedOnTheWire(tap: Tap): void {
  const outbound = tap.dataFrames("out");
  const inbound = tap.dataFrames("in");
  assert.equal(outbound.length, MESSAGES.length, "one frame per echoed message");
  outbound.forEach((frame, index) => {
    const size = typeof MESSAGES[index] === "string"
      ? new TextEncoder().encode(MESSAGES[index] as string).length
      : (MESSAGES[index] as Uint8Array).length;
    assert.equal(frame.rsv, size >= 1024 ? 4 : 0, `RSV1 of echo ${index} (${size} bytes)`);
  });
  assert.ok(inbound.some((frame) => frame.rsv === 4), "the client compressed some messages");
  const big = outbound[2];
  assert.ok(big.length < 1000, `100 000 x's went out in ${big.length} bytes`);
}

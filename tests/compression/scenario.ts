/**
 * What the compression interop tests share: the pairs that can compress, an echo site
 * per configuration, the messages echoed, and the checks on what the tap saw.
 * @module
 */

import assert from "node:assert/strict";
import zlib from "node:zlib";
import type { DeflateSetting } from "../../src/core/deflate_options.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Echo, type Pair, pairs } from "../helpers/server.ts";
import { noise } from "../helpers/bytes.ts";
import { join } from "../conformance/wire.ts";
import type { TappedMessage, Wire } from "./tap.ts";

/**
 * The adapters of this runtime that compress: the Node adapter everywhere and Bun.serve
 * (Deno.serve cannot: its WebSocket has no extensions).
 */
export const compressingPairs: readonly Pair[] = pairs.filter((pair) => pair.adapter !== "deno");

/** The offer of `ws`, Python's `websockets` and Chromium when left to their defaults. */
export const DEFAULT_OFFER = "permessage-deflate; client_max_window_bits";

/** A server configuration to run a client against, and what the 101 must answer. */
export interface Configuration {
  name: string;
  setting: DeflateSetting;
  /**
   * The exact `Sec-WebSocket-Extensions` answer to {@linkcode DEFAULT_OFFER}, by adapter:
   * Bun (uWebSockets) words it its own way and cannot limit the client's window.
   */
  answer: { readonly node: string; readonly bun: string };
}

/** The configurations every client is run against. */
export const configurations: readonly Configuration[] = [
  {
    name: "context takeover",
    setting: true,
    answer: { node: "permessage-deflate", bun: "permessage-deflate" },
  },
  {
    name: "no context takeover",
    setting: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    answer: {
      node: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      bun: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    },
  },
  {
    name: "smaller windows",
    setting: { serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    answer: {
      node: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11",
      bun: "permessage-deflate; server_max_window_bits=10",
    },
  },
];

/** `pair`'s entry of a table by adapter: Bun.serve's on `bun`, the Node adapter's else. */
export function byAdapter<T>(table: { readonly node: T; readonly bun: T }, pair: Pair): T {
  return pair.adapter === "bun" ? table.bun : table.node;
}

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

/**
 * 2000 random letters, digits, `+` and `/`: about 1500 bytes compressed alone, a few
 * bytes when the same text is still in the window.
 */
const REPEATED = Array.from(
  noise(2000, 11),
  (byte) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[byte & 63],
).join("");

/** The same 3000 random bytes twice: only a window over 2^11 bytes reaches back 3000. */
const FAR_REPEAT = (() => {
  const half = noise(3000, 23);
  const bytes = new Uint8Array(6000);
  bytes.set(half);
  bytes.set(half, half.length);
  return bytes;
})();

/** The index in {@linkcode MESSAGES} of the first of two copies of one message. */
const REPEATED_AT = 9;
/** The index in {@linkcode MESSAGES} of a message repeating itself 3000 bytes back. */
const FAR_REPEAT_AT = 11;

/**
 * The messages each client sends and expects back, in order: short and long text
 * (multi-byte too), compressible and incompressible binary, and empty messages; then
 * the same 2000-byte text twice in a row (with context takeover, the second copy
 * compresses to a few bytes; without, it must not refer to the first) and 6000 bytes
 * repeating 3000 bytes back (a window of 2^10 bytes cannot refer to it). The Python and
 * browser clients are handed the same list.
 */
export const MESSAGES: readonly (string | Uint8Array)[] = [
  "Hello",
  "Grüße, 世界 😀 ".repeat(200),
  "x".repeat(100_000),
  pattern(5000),
  noise(3000, 7),
  "Hello",
  "",
  new Uint8Array(0),
  JSON.stringify({ type: "chat", user: "ada", text: "lorem ipsum ".repeat(150) }),
  REPEATED,
  REPEATED,
  FAR_REPEAT,
];

const encoder = new TextEncoder();

/** A message's bytes: text in UTF-8. */
function bytesOf(message: string | Uint8Array): Uint8Array {
  return typeof message === "string" ? encoder.encode(message) : message;
}

/** Asserts messages came back equal, in order. */
export function assertEchoed(received: readonly (string | Uint8Array)[]): void {
  assert.equal(received.length, MESSAGES.length);
  MESSAGES.forEach((sent, index) => {
    assert.deepEqual(received[index], sent, `message ${index}`);
  });
}

/** What one side agreed to compress with, as a 101 answer states it (RFC 7692 §7.1). */
interface Compression {
  noContextTakeover: boolean;
  /** The largest window it may use, in bits. */
  windowBits: number;
}

/** Reads the server's and the client's terms from a `Sec-WebSocket-Extensions` answer. */
function readAnswer(answer: string): { server: Compression; client: Compression } {
  const [name, ...params] = answer.split(";").map((part) => part.trim());
  assert.equal(name, "permessage-deflate", `the answer "${answer}"`);
  const values = new Map(params.map((param) => {
    const [key, value] = param.split("=");
    return [key, value] as const;
  }));
  const side = (role: "server" | "client"): Compression => ({
    noContextTakeover: values.has(`${role}_no_context_takeover`),
    windowBits: Number(values.get(`${role}_max_window_bits`) ?? 15),
  });
  return { server: side("server"), client: side("client") };
}

/** What a sync flush ends with, stripped from each message (RFC 7692 §7.2.1). */
const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * Inflates raw DEFLATE data with a `windowBits` window. zlib checks a distance against
 * its window only when it reaches behind the current output chunk, so chunks are 64
 * bytes (zlib's least): a distance past the window then fails with "invalid distance
 * too far back" (a one-shot inflate into one large buffer would let it through).
 */
function inflateWithin(data: Uint8Array, windowBits: number): Uint8Array {
  return new Uint8Array(zlib.inflateRawSync(data, {
    windowBits,
    chunkSize: 64,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  }));
}

/**
 * Asserts one direction's compressed messages decode to {@linkcode MESSAGES} with no
 * more than the agreed window and context: each alone under no context takeover, else
 * one stream through them all (the uncompressed ones stay out of it, RFC 7692 §6.1).
 */
function assertInflates(
  messages: readonly TappedMessage[],
  terms: Compression,
  who: string,
): void {
  const compressed = messages.flatMap((message, index) =>
    message.compressed ? [{ index, payload: join([message.payload, TRAILER]) }] : []
  );
  const how = terms.noContextTakeover
    ? `each alone with a ${terms.windowBits}-bit window`
    : `as one stream with a ${terms.windowBits}-bit window`;
  const decoded = new Map<number, Uint8Array>();
  try {
    if (terms.noContextTakeover) {
      for (const { index, payload } of compressed) {
        decoded.set(index, inflateWithin(payload, terms.windowBits));
      }
    } else {
      const stream = inflateWithin(
        join(compressed.map(({ payload }) => payload)),
        terms.windowBits,
      );
      let offset = 0;
      for (const { index } of compressed) {
        const length = bytesOf(MESSAGES[index]).length;
        decoded.set(index, stream.subarray(offset, offset + length));
        offset += length;
      }
      assert.equal(offset, stream.length, `the ${who}'s compressed messages inflate ${how}`);
    }
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.fail(`the ${who}'s messages do not inflate ${how}: ${(error as Error).message}`);
  }
  messages.forEach((message, index) => {
    assert.deepEqual(
      decoded.get(index) ?? message.payload,
      bytesOf(MESSAGES[index]),
      `the ${who}'s message ${index} on the wire, inflated ${how}`,
    );
  });
}

/**
 * Asserts what the agreed context and window imply for one direction's sizes: without
 * context takeover both copies of {@linkcode REPEATED} compress the same; with it, and a
 * window that holds the first copy, the second is a tenth of the first or less; with a
 * 2^13-byte window or more, {@linkcode FAR_REPEAT} shrinks by a third or more.
 */
function assertSizes(messages: readonly TappedMessage[], terms: Compression, who: string): void {
  const [first, second] = [messages[REPEATED_AT], messages[REPEATED_AT + 1]];
  if (first.compressed && second.compressed) {
    const sizes = `${first.payload.length} then ${second.payload.length} bytes`;
    if (terms.noContextTakeover) {
      assert.equal(
        second.payload.length,
        first.payload.length,
        `without context takeover, the ${who} compressed the same message in ${sizes}`,
      );
    } else if ((1 << terms.windowBits) - 262 >= REPEATED.length) {
      // zlib's matches reach back at most the window less 262 bytes.
      assert.ok(
        second.payload.length * 10 <= first.payload.length,
        `with context takeover, the ${who} compressed the same message in ${sizes}`,
      );
    }
  }
  const far = messages[FAR_REPEAT_AT];
  if (far.compressed && terms.windowBits >= 13) {
    assert.ok(
      far.payload.length * 3 <= FAR_REPEAT.length * 2,
      `with a ${terms.windowBits}-bit window, the ${who} compressed ${FAR_REPEAT.length} ` +
        `bytes repeating 3000 back in ${far.payload.length}`,
    );
  }
}

/**
 * Asserts what the tap saw: the 101 answered exactly `answer`; the server compressed
 * what reached the threshold (1024 bytes) and nothing smaller, in frames that an
 * independent inflater decodes with the window and context the answer allows it (a
 * wider window fails with "invalid distance too far back", a kept context fails each
 * message inflated alone), at the sizes those terms imply; and the client compressed
 * some messages, within the terms the answer set for it.
 */
export function assertCompressedOnTheWire(wire: Wire, answer: string): void {
  assert.equal(wire.extensions, answer, "the 101's Sec-WebSocket-Extensions");
  const terms = readAnswer(answer);
  const outbound = wire.messages("out");
  assert.equal(outbound.length, MESSAGES.length, "one echo per message");
  outbound.forEach((message, index) => {
    const size = bytesOf(MESSAGES[index]).length;
    assert.equal(message.compressed, size >= 1024, `RSV1 of echo ${index} (${size} bytes)`);
  });
  assertInflates(outbound, terms.server, "server");
  assertSizes(outbound, terms.server, "server");
  const big = outbound[2];
  assert.ok(big.payload.length < 1000, `100 000 x's went out in ${big.payload.length} bytes`);

  const inbound = wire.messages("in");
  assert.equal(inbound.length, MESSAGES.length, "one message per message sent");
  assert.ok(inbound.some((message) => message.compressed), "the client compressed some messages");
  assertInflates(inbound, terms.client, "client");
  assertSizes(inbound, terms.client, "client");
}

/**
 * The conformance cases, grouped like the Autobahn|Testsuite's: each opens its own
 * connection to an echo server at `/echo`, writes hand-made bytes and describes what came
 * back in words, so the expected outcome and the observed one compare as strings.
 * @module
 */

import { DEFAULT_LIMITS } from "../../src/core/limits.ts";
import { noise } from "../helpers/bytes.ts";
import { type Arrival, describeArrivals, handshakeLines, Peer, requestHead } from "./peer.ts";
import { bytes, closePayload, encodeFrame, type FrameSpec, join, OP, utf8 } from "./wire.ts";

/** One conformance case. */
export interface Case {
  /** Autobahn-style number: "2.4". */
  readonly id: string;
  /** What it sends and expects, in a few words: "ping 125 bytes". */
  readonly title: string;
  /** The outcome RFC 6455 asks for, described as {@linkcode Case.run} describes one. */
  readonly expected: string;
  /** Runs the case against the server on `port` and describes what happened. */
  run(port: number): Promise<string>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Time a fail-fast case gives the server to object before it sends the rest. */
const FAIL_FAST_WAIT_MS = 1_500;

// --- Payloads --------------------------------------------------------------------------

/** `n` bytes of lower-case ASCII letters. */
function letters(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = 0x61 + (i % 26);
  return out;
}

/** A string repeated until it is `n` UTF-8 bytes long or just under. */
function repeatedText(unit: string, n: number): Uint8Array {
  const size = utf8(unit).length;
  return utf8(unit.repeat(Math.floor(n / size)));
}

/** Splits bytes into pieces of `size` (the last may be shorter; one empty piece for none). */
function pieces(data: Uint8Array, size: number): Uint8Array[] {
  if (data.length === 0) return [data];
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

// --- Frames ---------------------------------------------------------------------------

const frame = (spec: FrameSpec): Uint8Array => encodeFrame(spec);
const text = (payload: Uint8Array | string, fin = true) => frame({ opcode: OP.text, payload, fin });
const binary = (payload: Uint8Array, fin = true) => frame({ opcode: OP.binary, payload, fin });
const continuation = (payload: Uint8Array | string, fin = true) =>
  frame({ opcode: OP.continuation, payload, fin });
const ping = (payload: Uint8Array | string = "") => frame({ opcode: OP.ping, payload });
const pong = (payload: Uint8Array | string = "") => frame({ opcode: OP.pong, payload });
const close = (code?: number, reason: Uint8Array | string = "") =>
  frame({ opcode: OP.close, payload: closePayload(code, reason) });

/** A message as fragments: the first with `opcode`, the rest continuations. */
function fragmented(opcode: number, parts: readonly Uint8Array[]): Uint8Array[] {
  return parts.map((part, i) =>
    frame({
      opcode: i === 0 ? opcode : OP.continuation,
      payload: part,
      fin: i === parts.length - 1,
    })
  );
}

// --- Expected arrivals ------------------------------------------------------------------

const got = {
  text: (data: Uint8Array | string): Arrival => ({
    kind: "text",
    data: typeof data === "string" ? utf8(data) : data,
  }),
  binary: (data: Uint8Array): Arrival => ({ kind: "binary", data }),
  pong: (data: Uint8Array | string = ""): Arrival => ({
    kind: "pong",
    data: typeof data === "string" ? utf8(data) : data,
  }),
  close: (code?: number): Arrival => ({ kind: "close", code }),
  end: { kind: "end" } as Arrival,
};

/** How the bytes of a case go out. */
type Sending =
  | Uint8Array
  | Uint8Array[]
  | { chopped: Uint8Array[]; size: number }
  | ((peer: Peer) => Promise<void>);

async function send(peer: Peer, sending: Sending): Promise<void> {
  if (sending instanceof Uint8Array) peer.write(sending);
  else if (Array.isArray(sending)) peer.write(join(sending));
  else if (typeof sending === "function") await sending(peer);
  else await peer.writeChopped(join(sending.chopped), sending.size);
}

/** Opens a connection, runs `body`, and always closes the socket. */
async function connected(port: number, body: (peer: Peer) => Promise<string>): Promise<string> {
  let peer: Peer;
  try {
    peer = await Peer.open(port);
  } catch (error) {
    return `no connection: ${(error as Error).message}`;
  }
  try {
    return await body(peer);
  } finally {
    peer.destroy();
  }
}

/**
 * Puts the replies before the first Close in kind order: messages, then pongs, then the
 * rest, each kind in the order it came. RFC 6455 orders messages among themselves and
 * pongs among themselves, not a pong against an application's reply.
 */
function inKindOrder(arrivals: readonly Arrival[]): Arrival[] {
  const end = arrivals.findIndex((arrival) => arrival.kind === "close" || arrival.kind === "end");
  const replies = end < 0 ? arrivals : arrivals.slice(0, end);
  const rank = (arrival: Arrival) =>
    arrival.kind === "text" || arrival.kind === "binary" ? 0 : arrival.kind === "pong" ? 1 : 2;
  const sorted = replies.map((arrival, i) => ({ arrival, i }))
    .sort((a, b) => rank(a.arrival) - rank(b.arrival) || a.i - b.i)
    .map(({ arrival }) => arrival);
  return end < 0 ? sorted : [...sorted, ...arrivals.slice(end)];
}

/**
 * A case where the connection stays open: the server must answer with `replies` (echoes,
 * pongs, or nothing; see {@linkcode inKindOrder}), then the client closes with 1000 and
 * the server must echo it and close TCP.
 */
function echoes(id: string, title: string, sending: Sending, replies: Arrival[]): Case {
  const expected = inKindOrder([...replies, got.close(1000), got.end]);
  return {
    id,
    title,
    expected: describeArrivals(expected),
    run: (port) =>
      connected(port, async (peer) => {
        await send(peer, sending);
        await peer.waitFor(replies.length);
        await peer.closeCleanly();
        return describeArrivals(inKindOrder(peer.arrivals), expected);
      }),
  };
}

/**
 * A case that ends with the server's Close: what comes `before` it (usually nothing),
 * then a Close with `code`, then the server closes TCP. The client answers the Close.
 */
function closes(
  id: string,
  title: string,
  sending: Sending,
  code: number | undefined,
  before: Arrival[] = [],
): Case {
  const expected = [...before, got.close(code), got.end];
  return {
    id,
    title,
    expected: describeArrivals(expected),
    run: (port) =>
      connected(port, async (peer) => {
        await send(peer, sending);
        await peer.waitForEnd();
        return describeArrivals(peer.arrivals, expected);
      }),
  };
}

/** A case the opening handshake decides: `observe` describes the response head. */
function handshake(
  id: string,
  title: string,
  expected: string,
  request: string,
  observe: (head: { status: number; headers: Map<string, string> }) => string = (head) =>
    `HTTP ${head.status}`,
): Case {
  return {
    id,
    title,
    expected,
    run: async (port) => {
      const head = await requestHead(port, request);
      return head === undefined ? "no response" : observe(head);
    },
  };
}

// --- The cases --------------------------------------------------------------------------

const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const handshakeCases: Case[] = [
  handshake(
    "0.1",
    "valid handshake: 101 with the right Sec-WebSocket-Accept",
    "HTTP 101, accept right",
    handshakeLines("/echo", SAMPLE_KEY),
    (head) =>
      `HTTP ${head.status}, accept ${
        head.headers.get("sec-websocket-accept") === SAMPLE_ACCEPT ? "right" : "wrong"
      }`,
  ),
  handshake(
    "0.2",
    "wrong version (8): 426 with Sec-WebSocket-Version: 13",
    "HTTP 426, Sec-WebSocket-Version: 13",
    handshakeLines("/echo", SAMPLE_KEY, { "Sec-WebSocket-Version": "8" }),
    (head) =>
      `HTTP ${head.status}, Sec-WebSocket-Version: ${
        head.headers.get("sec-websocket-version") ?? "(none)"
      }`,
  ),
  handshake(
    "0.3",
    "missing Sec-WebSocket-Key: 400",
    "HTTP 400",
    handshakeLines("/echo", SAMPLE_KEY, { "Sec-WebSocket-Key": null }),
  ),
  handshake(
    "0.4",
    "Sec-WebSocket-Key not 16 bytes of base64: 400",
    "HTTP 400",
    handshakeLines("/echo", "c2hvcnQ="),
  ),
  handshake(
    "0.5",
    "POST: 405",
    "HTTP 405",
    handshakeLines("/echo", SAMPLE_KEY, { ":method": "POST", "Content-Length": "0" }),
  ),
  handshake(
    "0.6",
    "missing Upgrade header: answered, not upgraded",
    "not upgraded",
    handshakeLines("/echo", SAMPLE_KEY, { Upgrade: null }),
    (head) => head.status === 101 ? "upgraded" : "not upgraded",
  ),
  handshake(
    "0.7",
    "Connection header without Upgrade: 400",
    "HTTP 400",
    handshakeLines("/echo", SAMPLE_KEY, { Connection: "keep-alive" }),
  ),
];

const LENGTHS = [0, 1, 125, 126, 127, 128, 65535, 65536, 65537, MiB];
const lengthName = (n: number) => n === MiB ? "1 MiB" : `${n} bytes`;

const framingCases: Case[] = [
  ...LENGTHS.map((n, i) =>
    echoes(`1.1.${i + 1}`, `text, ${lengthName(n)}`, text(letters(n)), [got.text(letters(n))])
  ),
  ...LENGTHS.map((n, i) =>
    echoes(`1.2.${i + 1}`, `binary, ${lengthName(n)}`, binary(noise(n)), [got.binary(noise(n))])
  ),
  closes(
    "1.3.1",
    "64-bit length with its most significant bit set",
    // FIN+text, masked, 127, then 0x80 00 00 00 00 00 00 05: 2^63 + 5.
    bytes(0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, utf8("hello")),
    1002,
  ),
];

const PING_125 = noise(125);
const pingCases: Case[] = [
  echoes("2.1", "ping, empty: pong, empty", ping(), [got.pong()]),
  echoes("2.2", "ping with a text payload: pong with it", ping("Hello, wsport"), [
    got.pong("Hello, wsport"),
  ]),
  echoes("2.3", "ping with a binary payload: pong with it", ping(bytes(0, 0xff, 0xfe, 0x80)), [
    got.pong(bytes(0, 0xff, 0xfe, 0x80)),
  ]),
  echoes("2.4", "ping 125 bytes: pong with the same 125", ping(PING_125), [got.pong(PING_125)]),
  closes("2.5", "ping 126 bytes", ping(noise(126)), 1002),
  echoes("2.6", "ping 125 bytes, one byte per write", { chopped: [ping(PING_125)], size: 1 }, [
    got.pong(PING_125),
  ]),
  echoes("2.7", "unsolicited pong, empty: ignored", pong(), []),
  echoes("2.8", "unsolicited pong with a payload: ignored", pong("unsolicited"), []),
  echoes("2.9", "unsolicited pong, then a ping: one pong", [pong("unsolicited"), ping("asked")], [
    got.pong("asked"),
  ]),
  echoes(
    "2.10",
    "10 pings in one write: 10 pongs in order",
    Array.from({ length: 10 }, (_, i) => ping(`ping ${i}`)),
    Array.from({ length: 10 }, (_, i) => got.pong(`ping ${i}`)),
  ),
  echoes(
    "2.11",
    "10 pings, one byte per write: 10 pongs in order",
    { chopped: Array.from({ length: 10 }, (_, i) => ping(`ping ${i}`)), size: 1 },
    Array.from({ length: 10 }, (_, i) => got.pong(`ping ${i}`)),
  ),
];

const rsvCases: Case[] = [
  closes("3.1", "RSV1 on a text frame", frame({ opcode: OP.text, payload: "hello", rsv: 4 }), 1002),
  closes(
    "3.2",
    "RSV2 on a text frame after a valid one",
    [text("hello"), frame({ opcode: OP.text, payload: "hello", rsv: 2 }), ping()],
    1002,
    [got.text("hello")],
  ),
  closes("3.3", "RSV3 on a text frame", frame({ opcode: OP.text, payload: "hello", rsv: 1 }), 1002),
  closes(
    "3.4",
    "RSV1-3 on a binary frame",
    frame({ opcode: OP.binary, payload: noise(8), rsv: 7 }),
    1002,
  ),
  closes("3.5", "RSV on a ping", frame({ opcode: OP.ping, payload: "hello", rsv: 5 }), 1002),
  closes(
    "3.6",
    "RSV on a close",
    frame({ opcode: OP.close, payload: closePayload(1000), rsv: 3 }),
    1002,
  ),
];

const opcodeCases: Case[] = [
  ...[3, 4, 5, 6, 7].map((opcode, i) =>
    closes(`4.1.${i + 1}`, `reserved data opcode ${opcode}`, frame({ opcode, payload: "x" }), 1002)
  ),
  closes(
    "4.1.6",
    "reserved data opcode 5 after a valid text, then a ping",
    [text("hello"), frame({ opcode: 5, payload: "x" }), ping()],
    1002,
    [got.text("hello")],
  ),
  ...[0xb, 0xc, 0xd, 0xe, 0xf].map((opcode, i) =>
    closes(
      `4.2.${i + 1}`,
      `reserved control opcode 0x${opcode.toString(16).toUpperCase()}`,
      frame({ opcode, payload: "x" }),
      1002,
    )
  ),
];

const HELLO_FRAGMENTS = [utf8("fragment"), utf8("ed text")];
const fragmentationCases: Case[] = [
  closes("5.1", "ping in 2 fragments", fragmented(OP.ping, HELLO_FRAGMENTS), 1002),
  closes("5.2", "pong in 2 fragments", fragmented(OP.pong, HELLO_FRAGMENTS), 1002),
  echoes("5.3", "text in 2 fragments", fragmented(OP.text, HELLO_FRAGMENTS), [
    got.text("fragmented text"),
  ]),
  echoes(
    "5.4",
    "text in 2 fragments, one byte per write",
    { chopped: fragmented(OP.text, HELLO_FRAGMENTS), size: 1 },
    [got.text("fragmented text")],
  ),
  echoes(
    "5.5",
    "text in 2 fragments with a ping between",
    [text("fragment", false), ping("between"), continuation("ed text")],
    [got.pong("between"), got.text("fragmented text")],
  ),
  echoes(
    "5.6",
    "text in 2 fragments with a ping between, one byte per write",
    { chopped: [text("fragment", false), ping("between"), continuation("ed text")], size: 1 },
    [got.pong("between"), got.text("fragmented text")],
  ),
  echoes(
    "5.7",
    "text in 5 fragments with 2 pings between",
    [
      text("one ", false),
      continuation("two ", false),
      ping("first"),
      continuation("three ", false),
      ping("second"),
      continuation("four ", false),
      continuation("five"),
    ],
    [got.pong("first"), got.pong("second"), got.text("one two three four five")],
  ),
  echoes("5.8", "binary in 4 fragments", fragmented(OP.binary, pieces(noise(1000), 250)), [
    got.binary(noise(1000)),
  ]),
  closes("5.9", "continuation, final, with no message started", continuation("x"), 1002),
  closes(
    "5.10",
    "continuation, not final, with no message started",
    continuation("x", false),
    1002,
  ),
  closes(
    "5.11",
    "continuation after a complete message",
    [text("complete"), continuation("x")],
    1002,
    [got.text("complete")],
  ),
  closes(
    "5.12",
    "text frame inside a fragmented text message",
    [text("start", false), text("intruder")],
    1002,
  ),
  closes(
    "5.13",
    "binary frame inside a fragmented text message",
    [text("start", false), binary(noise(4))],
    1002,
  ),
  closes(
    "5.14",
    "Close frame in 2 fragments",
    [
      frame({ opcode: OP.close, payload: bytes(0x03), fin: false }),
      continuation(bytes(0xe8)),
    ],
    1002,
  ),
  echoes(
    "5.15",
    "text message of 3 empty fragments",
    [text("", false), continuation("", false), continuation("")],
    [got.text("")],
  ),
  echoes(
    "5.16",
    "text with empty fragments between non-empty ones",
    [
      text("", false),
      continuation("with ", false),
      continuation("", false),
      continuation("empties", false),
      continuation(""),
    ],
    [got.text("with empties")],
  ),
  echoes(
    "5.17",
    "text in 100 fragments in one write",
    fragmented(OP.text, pieces(letters(1000), 10)),
    [got.text(letters(1000))],
  ),
];

const VALID_TEXTS: [string, string][] = [
  ["2-byte characters", "κόσμε"],
  ["3-byte characters", "€ ≠ 中文 ⌘"],
  ["4-byte characters", "𝄞 😀 𐍈"],
  ["mixed", "Hello-µ@ßöäüàá-UTF-8!!"],
];

/** Every way a text message's UTF-8 can be invalid, with the bytes that make it so. */
const INVALID_UTF8: [string, Uint8Array][] = [
  ["overlong 2-byte '/' (C0 AF)", bytes(0x61, 0xc0, 0xaf)],
  ["overlong 3-byte '/' (E0 80 AF)", bytes(0x61, 0xe0, 0x80, 0xaf)],
  ["overlong 4-byte '/' (F0 80 80 AF)", bytes(0x61, 0xf0, 0x80, 0x80, 0xaf)],
  ["overlong NUL (C0 80)", bytes(0xc0, 0x80)],
  ["high surrogate U+D800 (ED A0 80)", bytes(0x61, 0xed, 0xa0, 0x80)],
  ["low surrogate U+DFFF (ED BF BF)", bytes(0x61, 0xed, 0xbf, 0xbf)],
  ["surrogate pair encoded (ED A0 BD ED B2 A9)", bytes(0xed, 0xa0, 0xbd, 0xed, 0xb2, 0xa9)],
  ["above U+10FFFF (F4 90 80 80)", bytes(0xf4, 0x90, 0x80, 0x80)],
  ["5-byte lead F5 (F5 80 80 80)", bytes(0xf5, 0x80, 0x80, 0x80)],
  ["byte FE", bytes(0x61, 0xfe)],
  ["byte FF", bytes(0xff, 0x61)],
  ["truncated 2-byte sequence at the end", join([utf8("κόσμ"), bytes(0xce)])],
  ["truncated 3-byte sequence at the end", bytes(0x61, 0xe2, 0x82)],
  ["truncated 4-byte sequence at the end", bytes(0x61, 0xf0, 0x9d, 0x84)],
  ["lone continuation byte", bytes(0x61, 0x80, 0x62)],
  ["truncated sequence in the middle", bytes(0x61, 0xe2, 0x82, 0x62)],
];

const KOSME = utf8("κόσμε");
const CLEF = utf8("𝄞");

/**
 * A text message whose first fragment is already invalid: the server should fail the
 * connection before the rest is sent (Autobahn 6.4's fail-fast).
 */
function failFast(id: string, title: string, first: Uint8Array, rest: Uint8Array): Case {
  return {
    id,
    title,
    expected: "Close 1007, TCP closed; the server objected before the message ended",
    run: (port) =>
      connected(port, async (peer) => {
        peer.write(first);
        await peer.waitForClose(FAIL_FAST_WAIT_MS);
        const early = peer.closeReceived || peer.ended;
        if (!early) peer.write(rest);
        await peer.waitForEnd();
        const when = early
          ? "the server objected before the message ended"
          : "nothing came until the message ended";
        return `${describeArrivals(peer.arrivals)}; ${when}`;
      }),
  };
}

const utf8Cases: Case[] = [
  ...VALID_TEXTS.map(([name, value], i) =>
    echoes(`6.1.${i + 1}`, `valid UTF-8, ${name}`, text(value), [got.text(value)])
  ),
  echoes(
    "6.2.1",
    "valid UTF-8, the lowest code point of each length",
    text(bytes(0x01, 0xc2, 0x80, 0xe0, 0xa0, 0x80, 0xf0, 0x90, 0x80, 0x80)),
    [got.text(bytes(0x01, 0xc2, 0x80, 0xe0, 0xa0, 0x80, 0xf0, 0x90, 0x80, 0x80))],
  ),
  echoes(
    "6.2.2",
    "valid UTF-8, the highest code point of each length (up to U+10FFFF)",
    text(bytes(0x7f, 0xdf, 0xbf, 0xef, 0xbf, 0xbf, 0xf4, 0x8f, 0xbf, 0xbf)),
    [got.text(bytes(0x7f, 0xdf, 0xbf, 0xef, 0xbf, 0xbf, 0xf4, 0x8f, 0xbf, 0xbf))],
  ),
  echoes(
    "6.2.3",
    "valid UTF-8 around the surrogates: U+D7FF, U+E000, U+FFFD, U+FFFF",
    text(bytes(0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbf)),
    [got.text(bytes(0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbf))],
  ),
  echoes("6.3.1", "valid UTF-8 in 1-byte fragments", fragmented(OP.text, pieces(KOSME, 1)), [
    got.text(KOSME),
  ]),
  echoes(
    "6.3.2",
    "a 4-byte character split across 2 fragments",
    fragmented(OP.text, [
      join([utf8("a"), CLEF.subarray(0, 2)]),
      join([CLEF.subarray(2), utf8("b")]),
    ]),
    [got.text("a𝄞b")],
  ),
  echoes("6.3.3", "a 4-byte character in 4 fragments", fragmented(OP.text, pieces(CLEF, 1)), [
    got.text(CLEF),
  ]),
  ...INVALID_UTF8.map(([name, payload], i) =>
    closes(`6.4.${i + 1}`, `invalid UTF-8: ${name}`, text(payload), 1007)
  ),
  closes(
    "6.5.1",
    "invalid UTF-8 in the second fragment",
    fragmented(OP.text, [KOSME, bytes(0xed, 0xa0, 0x80)]),
    1007,
  ),
  closes(
    "6.5.2",
    "message ends inside a character, each fragment a valid prefix",
    fragmented(OP.text, [KOSME, CLEF.subarray(0, 3)]),
    1007,
  ),
  echoes(
    "6.5.3",
    "binary message with invalid UTF-8: echoed as it is",
    binary(bytes(0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff)),
    [got.binary(bytes(0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff))],
  ),
  failFast(
    "6.6.1",
    "fail fast: first fragment invalid, Close 1007 before the rest is sent",
    text(join([KOSME, bytes(0xf4, 0x90, 0x80, 0x80)]), false),
    join([continuation("more", false), continuation("end")]),
  ),
  failFast(
    "6.6.2",
    "fail fast: invalid bytes in the first half of a frame, Close 1007 before the second",
    // A 200-byte text frame whose first 100 bytes are sent alone.
    text(join([bytes(0x61, 0xc0, 0xaf), letters(197)])).subarray(0, 2 + 2 + 4 + 100),
    text(join([bytes(0x61, 0xc0, 0xaf), letters(197)])).subarray(2 + 2 + 4 + 100),
  ),
];

const VALID_CODES = [
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  3000,
  3999,
  4000,
  4999,
];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const closeCases: Case[] = [
  echoes("7.1.1", "a message, then a clean close", text("Hello"), [got.text("Hello")]),
  closes(
    "7.1.2",
    "Close, then a second Close: the second is ignored",
    [close(1000), close(1001)],
    1000,
  ),
  closes("7.1.3", "Close, then a ping: no pong", [close(1000), ping("late")], 1000),
  closes("7.1.4", "Close, then a text message: no echo", [close(1000), text("late")], 1000),
  closes(
    "7.1.5",
    "a fragment, Close, then the last fragment: no echo",
    [text("fragment", false), close(1000), continuation("ed")],
    1000,
  ),
  closes(
    "7.1.6",
    "1 MiB message and Close in one write: echo, then Close",
    [binary(noise(MiB)), close(1000)],
    1000,
    [got.binary(noise(MiB))],
  ),
  closes("7.3.1", "empty Close: echoed without a code", close(), undefined),
  closes(
    "7.3.2",
    "Close with a 1-byte payload",
    frame({ opcode: OP.close, payload: bytes(0x03) }),
    1002,
  ),
  closes("7.3.3", "Close 1000 with no reason", close(1000), 1000),
  closes("7.3.4", "Close 1000 with a reason", close(1000, "bye, and thanks"), 1000),
  closes(
    "7.3.5",
    "Close with a 123-byte reason (125-byte payload)",
    close(1000, letters(123)),
    1000,
  ),
  closes(
    "7.3.6",
    "Close with a 124-byte reason (126-byte payload)",
    close(1000, letters(124)),
    1002,
  ),
  closes(
    "7.5.1",
    "Close reason that is not UTF-8",
    close(1000, bytes(0x61, 0xed, 0xa0, 0x80)),
    1007,
  ),
  ...VALID_CODES.map((code, i) =>
    closes(`7.7.${i + 1}`, `Close ${code}: echoed`, close(code), code)
  ),
  ...INVALID_CODES.map((code, i) =>
    closes(`7.9.${i + 1}`, `Close with invalid code ${code}`, close(code), 1002)
  ),
];

const maskingCases: Case[] = [
  closes(
    "8.1",
    "unmasked text frame",
    frame({ opcode: OP.text, payload: "hello", mask: false }),
    1002,
  ),
  closes("8.2", "unmasked ping", frame({ opcode: OP.ping, payload: "hello", mask: false }), 1002),
  closes(
    "8.3",
    "unmasked Close",
    frame({ opcode: OP.close, payload: closePayload(1000), mask: false }),
    1002,
  ),
  echoes(
    "8.4",
    "masked with an all-zero key",
    frame({ opcode: OP.text, payload: "zero key", mask: bytes(0, 0, 0, 0) }),
    [got.text("zero key")],
  ),
];

const FOUR_MIB_TEXT = letters(4 * MiB);
const FOUR_MIB_BINARY = noise(4 * MiB);
const EUROS = repeatedText("€", 4 * MiB);

/**
 * Messages of exactly the default `maxMessageBytes` (16 MiB): the largest a server with
 * default limits accepts, which it must also be able to write back.
 */
const LIMIT_BYTES = DEFAULT_LIMITS.maxMessageBytes;
const LIMIT_TEXT = letters(LIMIT_BYTES);
const LIMIT_BINARY = noise(LIMIT_BYTES);

/** A short conversation: a text, a fragmented binary with a ping between, a ping. */
const CONVERSATION = [
  text("one byte at a time"),
  binary(noise(40), false),
  ping("in between"),
  continuation(noise(40)),
  ping("last"),
];

const largeCases: Case[] = [
  echoes("9.1.1", "text 4 MiB in one frame", text(FOUR_MIB_TEXT), [got.text(FOUR_MIB_TEXT)]),
  echoes("9.1.2", "binary 4 MiB in one frame", binary(FOUR_MIB_BINARY), [
    got.binary(FOUR_MIB_BINARY),
  ]),
  echoes(
    "9.2.1",
    "text 4 MiB in 64 KiB fragments",
    fragmented(OP.text, pieces(FOUR_MIB_TEXT, 64 * KiB)),
    [got.text(FOUR_MIB_TEXT)],
  ),
  echoes(
    "9.2.2",
    "binary 4 MiB in 64 KiB fragments",
    fragmented(OP.binary, pieces(FOUR_MIB_BINARY, 64 * KiB)),
    [got.binary(FOUR_MIB_BINARY)],
  ),
  echoes(
    "9.2.3",
    "text 4 MiB of 3-byte characters in 64 KiB fragments (characters split)",
    fragmented(OP.text, pieces(EUROS, 64 * KiB)),
    [got.text(EUROS)],
  ),
  echoes(
    "9.1.3",
    "text of exactly maxMessageBytes (16 MiB, the default) in one frame",
    text(LIMIT_TEXT),
    [got.text(LIMIT_TEXT)],
  ),
  echoes(
    "9.1.4",
    "binary of exactly maxMessageBytes (16 MiB, the default) in one frame",
    binary(LIMIT_BINARY),
    [got.binary(LIMIT_BINARY)],
  ),
  echoes(
    "9.2.4",
    "text of exactly maxMessageBytes (16 MiB, the default) in 1 MiB fragments",
    fragmented(OP.text, pieces(LIMIT_TEXT, MiB)),
    [got.text(LIMIT_TEXT)],
  ),
  echoes(
    "9.2.5",
    "binary of exactly maxMessageBytes (16 MiB, the default) in 1 MiB fragments",
    fragmented(OP.binary, pieces(LIMIT_BINARY, MiB)),
    [got.binary(LIMIT_BINARY)],
  ),
  echoes(
    "9.3.1",
    "frames written one byte per TCP write",
    { chopped: CONVERSATION, size: 1 },
    [
      got.text("one byte at a time"),
      got.pong("in between"),
      got.binary(join([noise(40), noise(40)])),
      got.pong("last"),
    ],
  ),
  echoes(
    "9.3.2",
    "100 frames in one write: 80 texts, then 20 pings",
    [
      ...Array.from({ length: 80 }, (_, i) => text(`message ${String(i).padStart(2, "0")}`)),
      ...Array.from({ length: 20 }, (_, i) => ping(`p${String(i).padStart(2, "0")}`)),
    ],
    [
      ...Array.from({ length: 80 }, (_, i) => got.text(`message ${String(i).padStart(2, "0")}`)),
      ...Array.from({ length: 20 }, (_, i) => got.pong(`p${String(i).padStart(2, "0")}`)),
    ],
  ),
];

/** Every case, in order. */
export const cases: readonly Case[] = [
  ...handshakeCases,
  ...framingCases,
  ...pingCases,
  ...rsvCases,
  ...opcodeCases,
  ...fragmentationCases,
  ...utf8Cases,
  ...closeCases,
  ...maskingCases,
  ...largeCases,
];

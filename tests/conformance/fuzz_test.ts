/**
 * Property-based fuzzing of the core `Connection` in both roles: random bytes, and valid
 * frame streams (built by hand in `wire.ts`) mutated by bit flips, truncations and
 * splices, fed in random chunks. Each input is judged against a small reference model
 * written here: the connection never throws, holds no more input than its limits allow,
 * and ends either open with exactly the model's messages, or with one `close` event whose
 * code the model allows, its Close frame last in the output. Seeded: set FUZZ_SEED to
 * repeat a run.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import fc from "fast-check";
import { Connection, type ConnectionEvent } from "../../src/core/connection.ts";
import {
  bytes,
  closeCodeOf,
  closePayload,
  encodeFrame,
  FrameDecoder,
  join,
  OP,
  sameBytes,
  utf8,
  type WireFrame,
  xorMask,
} from "./wire.ts";

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);

type Role = "server" | "client";

/** The limits a fuzzed connection runs with: small, so 1009 is reachable. */
interface FuzzLimits {
  maxMessageBytes: number;
  maxFrameBytes: number;
}

/** The largest frame header: 2 bytes, an 8-byte length and a 4-byte key. */
const MAX_HEADER_BYTES = 14;
const MAX_CONTROL_BYTES = 125;

// --- The reference model ------------------------------------------------------------

/** What the model expects of a byte stream. */
interface Expected {
  messages: (string | Uint8Array)[];
  pings: Uint8Array[];
  pongs: Uint8Array[];
  /** Still open, or closed with one of `codes`, cleanly (the peer's Close) or not. */
  end: { state: "open" } | { state: "closed"; codes: number[]; clean: boolean };
}

const strictDecoder = () => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Whether bytes can begin valid UTF-8 (an unfinished last character is fine). */
function validPrefix(data: Uint8Array): boolean {
  try {
    strictDecoder().decode(data, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Complete, valid UTF-8 decoded, or `undefined`. */
function decodeText(data: Uint8Array): string | undefined {
  try {
    return strictDecoder().decode(data);
  } catch {
    return undefined;
  }
}

const isValidCode = (code: number) =>
  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
  (code >= 3000 && code <= 4999);

const readUint32 = (data: Uint8Array, at: number) =>
  data[at] * 0x1000000 + data[at + 1] * 0x10000 + data[at + 2] * 0x100 + data[at + 3];

/**
 * The outcome RFC 6455 (and wsport's limits) give a byte stream received by `role`.
 * Where one frame header breaks several rules, any of their codes is accepted.
 */
function reference(stream: Uint8Array, role: Role, limits: FuzzLimits): Expected {
  const expected: Expected = { messages: [], pings: [], pongs: [], end: { state: "open" } };
  const closed = (codes: number[], clean = false): Expected => {
    expected.end = { state: "closed", codes: [...new Set(codes)], clean };
    return expected;
  };
  let at = 0;
  let messageOpcode = 0;
  let parts: Uint8Array[] = [];
  let messageBytes = 0;
  while (stream.length - at >= 2) {
    const fin = (stream[at] & 0x80) !== 0;
    const rsv = (stream[at] >> 4) & 0x7;
    const opcode = stream[at] & 0x0f;
    const masked = (stream[at + 1] & 0x80) !== 0;
    const short = stream[at + 1] & 0x7f;
    const extension = short === 126 ? 2 : short === 127 ? 8 : 0;
    const headerSize = 2 + extension + (masked ? 4 : 0);
    if (stream.length - at < headerSize) return expected;
    const codes: number[] = [];
    let length = short;
    if (short === 126) {
      length = stream[at + 2] * 256 + stream[at + 3];
      if (length < 126) codes.push(1002);
    } else if (short === 127) {
      const high = readUint32(stream, at + 2);
      length = high * 0x100000000 + readUint32(stream, at + 6);
      if (high >= 0x80000000) codes.push(1002);
      if (length < 65536) codes.push(1002);
    }
    const known = opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
    const control = opcode >= 0x8;
    if (!known) codes.push(1002);
    if (masked !== (role === "server")) codes.push(1002);
    if (rsv !== 0) codes.push(1002);
    if (length > limits.maxFrameBytes) codes.push(1009);
    if (control && (!fin || length > MAX_CONTROL_BYTES)) codes.push(1002);
    if (known && !control) {
      if ((opcode === OP.continuation) === (messageOpcode === 0)) codes.push(1002);
      if (messageBytes + length > limits.maxMessageBytes) codes.push(1009);
    }
    if (codes.length > 0) return closed(codes);
    const start = at + headerSize;
    const available = Math.min(length, stream.length - start);
    let payload: Uint8Array = stream.slice(start, start + available);
    if (masked) payload = xorMask(payload, stream.subarray(start - 4, start));
    if (!control) {
      if (opcode !== OP.continuation) messageOpcode = opcode;
      if (messageOpcode === OP.text && !validPrefix(join([...parts, payload]))) {
        return closed([1007]);
      }
      if (available < length) return expected;
      parts.push(payload);
      messageBytes += length;
      if (fin) {
        const message = join(parts);
        if (messageOpcode === OP.text) {
          const text = decodeText(message);
          if (text === undefined) return closed([1007]);
          expected.messages.push(text);
        } else {
          expected.messages.push(message);
        }
        messageOpcode = 0;
        parts = [];
        messageBytes = 0;
      }
    } else {
      if (available < length) return expected;
      if (opcode === OP.ping) expected.pings.push(payload);
      else if (opcode === OP.pong) expected.pongs.push(payload);
      else if (payload.length === 0) return closed([1005], true);
      else if (payload.length === 1) return closed([1002]);
      else {
        const code = closeCodeOf(payload)!;
        if (!isValidCode(code)) return closed([1002]);
        if (decodeText(payload.subarray(2)) === undefined) return closed([1007]);
        return closed([code], true);
      }
    }
    at = start + length;
  }
  return expected;
}

// --- Running a connection ---------------------------------------------------------------

/** Splits a stream at the given cut points (taken modulo its length). */
function chunksOf(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, stream.length]) {
    if (point > from) chunks.push(stream.slice(from, point));
    from = Math.max(from, point);
  }
  return chunks;
}

/** Feeds the chunks to a new connection and checks it against the model. */
function check(stream: Uint8Array, cuts: readonly number[], role: Role, limits: FuzzLimits): void {
  const expected = reference(stream, role, limits);
  const connection = new Connection({ role, limits, now: 0 });
  const events: ConnectionEvent[] = [];
  const output: Uint8Array[] = [];
  // After a failure the unread rest of that chunk stays counted, so the bound allows the
  // largest chunk so far.
  let largestChunk = 0;
  for (const chunk of chunksOf(stream, cuts)) {
    largestChunk = Math.max(largestChunk, chunk.length);
    events.push(...connection.receive(chunk, 0));
    const bound = limits.maxMessageBytes + MAX_CONTROL_BYTES + MAX_HEADER_BYTES + largestChunk;
    assert.ok(
      connection.bufferedInputBytes <= bound,
      `holds ${connection.bufferedInputBytes} bytes of input, more than ${bound}`,
    );
    output.push(...connection.takeOutput());
  }
  const of = <T extends ConnectionEvent["type"]>(type: T) =>
    events.filter((event): event is Extract<ConnectionEvent, { type: T }> => event.type === type);
  assert.deepEqual(of("message").map((event) => event.data), expected.messages);
  assert.deepEqual(of("ping").map((event) => event.data), expected.pings);
  assert.deepEqual(of("pong").map((event) => event.data), expected.pongs);
  const frames: WireFrame[] = new FrameDecoder().push(join(output));
  for (const frame of frames) assert.equal(frame.masked, role === "client", "our frames' mask");
  const pongs = expected.pings.map((data) => ({ opcode: OP.pong, data }));
  const closes = of("close");
  if (expected.end.state === "open") {
    assert.equal(connection.state, "open");
    assert.equal(closes.length, 0);
    assert.deepEqual(frames.map((frame) => ({ opcode: frame.opcode, data: frame.payload })), pongs);
    return;
  }
  assert.equal(connection.state, "closed");
  assert.equal(connection.canSend, false);
  assert.equal(closes.length, 1, "one close event");
  const { code, wasClean } = closes[0].info;
  assert.ok(
    expected.end.codes.includes(code),
    `close code ${code}, expected ${expected.end.codes}`,
  );
  assert.equal(wasClean, expected.end.clean);
  if (!wasClean) assert.ok([1002, 1007, 1009].includes(code), `failure code ${code}`);
  const last = frames.at(-1);
  assert.equal(last?.opcode, OP.close, "a Close frame last");
  assert.equal(closeCodeOf(last!.payload) ?? 1005, code, "the Close frame's code");
  assert.deepEqual(
    frames.slice(0, -1).map((frame) => ({ opcode: frame.opcode, data: frame.payload })),
    pongs,
  );
}

// --- Generators ------------------------------------------------------------------------

const limitsArbitrary: fc.Arbitrary<FuzzLimits> = fc.constantFrom(
  { maxMessageBytes: 64, maxFrameBytes: 64 },
  { maxMessageBytes: 300, maxFrameBytes: 100 },
  { maxMessageBytes: 4096, maxFrameBytes: 4096 },
);

const cutsArbitrary = fc.array(fc.nat({ max: 4096 }), { maxLength: 12 });

/** A message or control frame of a valid conversation, as frames. */
function itemArbitrary(mask: () => fc.Arbitrary<Uint8Array | false>): fc.Arbitrary<Uint8Array[]> {
  const frame = (opcode: number, payload: Uint8Array, fin = true) =>
    mask().map((key) => encodeFrame({ opcode, payload, fin, mask: key }));
  const control = (opcode: number) =>
    fc.uint8Array({ maxLength: 125, size: "max" }).chain((payload) => frame(opcode, payload))
      .map((f) => [f]);
  const message = fc.tuple(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 100, size: "max" }).map((text) => ({
        opcode: OP.text,
        data: utf8(text),
      })),
      fc.uint8Array({ maxLength: 300, size: "max" }).map((data) => ({ opcode: OP.binary, data })),
      // Now and then a frame long enough for the 64-bit length form.
      fc.tuple(fc.integer({ min: 65_536, max: 66_000 }), fc.nat({ max: 255 })).map((
        [length, fill],
      ) => ({ opcode: OP.binary, data: new Uint8Array(length).fill(fill) })),
    ),
    fc.array(fc.nat(), { maxLength: 4 }),
    fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 2 }),
  ).chain(([{ opcode, data }, cuts, pings]) => {
    // Fragments at the cut points (characters may split), with pings after the first.
    const parts = chunksOf(data, cuts);
    if (parts.length === 0) parts.push(new Uint8Array(0));
    const frames = parts.map((part, i) =>
      frame(i === 0 ? opcode : OP.continuation, part, i === parts.length - 1)
    );
    const between = pings.map((payload) => frame(OP.ping, payload));
    return fc.tuple(...frames, ...between).map((built) => {
      const fragments = built.slice(0, frames.length);
      return [fragments[0], ...built.slice(frames.length), ...fragments.slice(1)];
    });
  });
  return fc.oneof(
    { weight: 4, arbitrary: message },
    { weight: 1, arbitrary: control(OP.ping) },
    { weight: 1, arbitrary: control(OP.pong) },
  );
}

/** A valid stream for a connection in `role`, possibly ending with a Close. */
function streamArbitrary(role: Role): fc.Arbitrary<Uint8Array> {
  const mask = () =>
    role === "server" ? fc.uint8Array({ minLength: 4, maxLength: 4 }) : fc.constant(false as const);
  const payload = fc.oneof(
    fc.tuple(fc.constantFrom(1000, 1001, 1011, 1014, 3000, 4999), fc.string({ maxLength: 30 }))
      .map(([code, reason]) => closePayload(code, reason)),
    // Empty, 1 byte, codes not allowed on the wire, reasons that are not UTF-8.
    fc.uint8Array({ maxLength: 4, size: "max" }),
  );
  const closing = fc.option(
    fc.tuple(payload, mask()).map(([data, key]) =>
      encodeFrame({ opcode: OP.close, payload: data, mask: key })
    ),
  );
  return fc.tuple(fc.array(itemArbitrary(mask), { maxLength: 6 }), closing).map(
    ([items, close]) => join([...items.flat(), ...(close === null ? [] : [close])]),
  );
}

/** A change to a byte stream. */
type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; data: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    data: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.nat({ max: 16 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.nat({ max: 32 }) }),
);

function mutate(stream: Uint8Array, mutation: Mutation): Uint8Array {
  if (stream.length === 0) return mutation.kind === "insert" ? mutation.data : stream;
  const at = mutation.at % stream.length;
  switch (mutation.kind) {
    case "flip": {
      const copy = stream.slice();
      copy[at] ^= 1 << mutation.bit;
      return copy;
    }
    case "truncate":
      return stream.slice(0, at);
    case "insert":
      return join([stream.subarray(0, at), mutation.data, stream.subarray(at)]);
    case "delete":
      return join([stream.subarray(0, at), stream.subarray(at + mutation.length)]);
    case "duplicate":
      return join([stream.subarray(0, at + mutation.length), stream.subarray(at)]);
  }
}

const roleArbitrary = fc.constantFrom<Role>("server", "client");

// --- Properties ------------------------------------------------------------------------

const runs = (numRuns: number) => ({ seed, numRuns, endOnFailure: true });

test("fuzz: valid streams in random chunks deliver exactly their messages", () => {
  fc.assert(
    fc.property(
      roleArbitrary.chain((role) => fc.tuple(fc.constant(role), streamArbitrary(role))),
      cutsArbitrary,
      limitsArbitrary,
      ([role, stream], cuts, limits) => check(stream, cuts, role, limits),
    ),
    runs(8_000),
  );
});

test("fuzz: mutated streams (bit flips, truncations, splices) end open or with one close", () => {
  fc.assert(
    fc.property(
      roleArbitrary.chain((role) => fc.tuple(fc.constant(role), streamArbitrary(role))),
      fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }),
      cutsArbitrary,
      limitsArbitrary,
      ([role, stream], mutations, cuts, limits) =>
        check(mutations.reduce(mutate, stream), cuts, role, limits),
    ),
    runs(25_000),
  );
});

test("fuzz: random bytes end open or with one close", () => {
  // A valid first byte half the time, so more inputs get past the first header.
  const start = fc.oneof(fc.constant(new Uint8Array(0)), fc.constantFrom(bytes(0x81), bytes(0x82)));
  fc.assert(
    fc.property(
      start,
      fc.uint8Array({ maxLength: 300 }),
      cutsArbitrary,
      roleArbitrary,
      limitsArbitrary,
      (first, rest, cuts, role, limits) => check(join([first, rest]), cuts, role, limits),
    ),
    runs(15_000),
  );
});

test("fuzz: the reference model agrees with hand-checked streams", () => {
  const limits = { maxMessageBytes: 64, maxFrameBytes: 64 };
  const masked = (opcode: number, payload: Uint8Array | string, fin = true) =>
    encodeFrame({ opcode, payload, fin });
  assert.deepEqual(reference(masked(OP.text, "hi"), "server", limits).messages, ["hi"]);
  assert.deepEqual(reference(masked(OP.text, "hi"), "client", limits).end, {
    state: "closed",
    codes: [1002],
    clean: false,
  });
  assert.deepEqual(
    reference(
      join([masked(OP.text, bytes(0xce), false), masked(OP.continuation, bytes(0xba))]),
      "server",
      limits,
    )
      .messages,
    ["κ"],
  );
  assert.deepEqual(reference(masked(OP.binary, new Uint8Array(65)), "server", limits).end, {
    state: "closed",
    codes: [1009],
    clean: false,
  });
  assert.deepEqual(reference(masked(OP.close, closePayload(4000)), "server", limits).end, {
    state: "closed",
    codes: [4000],
    clean: true,
  });
  assert.ok(sameBytes(reference(masked(OP.ping, "p"), "server", limits).pings[0], utf8("p")));
});

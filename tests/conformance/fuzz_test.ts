/**
 * Property-based fuzzing of the core `Connection` in both roles: random bytes, and valid
 * frame streams (built by hand in `wire.ts`) mutated by bit flips, truncations and
 * splices, fed in random chunks, with and without compression (RSV1 messages handed to a
 * fake decompressor). Each input is judged against a small reference model written here:
 * the connection never throws, holds no more input than its limits allow, and ends either
 * open with exactly the model's events in order, or with one `close` event whose code the
 * model allows, its Close frame last in the output. Each property runs in a worker that
 * the test stops, and fails, when it does not answer in time: a timer in the same thread
 * cannot interrupt a synchronous loop. Seeded: set FUZZ_SEED to repeat a run.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
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

type Role = "server" | "client";

/** The limits a fuzzed connection runs with: mostly small, so 1009 is reachable. */
interface FuzzLimits {
  maxMessageBytes: number;
  maxFrameBytes: number;
}

/** The largest frame header: 2 bytes, an 8-byte length and a 4-byte key. */
const MAX_HEADER_BYTES = 14;
const MAX_CONTROL_BYTES = 125;

/**
 * How the fake decompressor answers a compressed message: with its payload as it came,
 * with other bytes, or by failing the connection with 1007. A `late` answer waits until
 * the next chunk has been received.
 */
type Inflate =
  | { kind: "same"; late: boolean }
  | { kind: "bytes"; data: Uint8Array; late: boolean }
  | { kind: "fail"; late: boolean };

/**
 * The fake decompressor: what it makes of the `index`th compressed message (answers
 * repeat in turn), or `undefined` for a failure.
 */
function inflate(answers: readonly Inflate[], index: number, data: Uint8Array) {
  const answer = answers[index % answers.length];
  return answer.kind === "same" ? data : answer.kind === "bytes" ? answer.data.slice() : undefined;
}

// --- The reference model ------------------------------------------------------------

/** What the model expects of a byte stream. */
interface Expected {
  /** Every event but `close`, in order. */
  events: Exclude<ConnectionEvent, { type: "close" }>[];
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
 * The outcome RFC 6455 (and wsport's limits) give a byte stream received by `role`; with
 * `answers`, compression is on (RFC 7692: RSV1 on the first frame of a data message only)
 * and compressed messages are decompressed as {@linkcode inflate} answers. Where one
 * frame header breaks several rules, any of their codes is accepted.
 */
function reference(
  stream: Uint8Array,
  role: Role,
  limits: FuzzLimits,
  answers?: readonly Inflate[],
): Expected {
  const expected: Expected = { events: [], end: { state: "open" } };
  const closed = (codes: number[], clean = false): Expected => {
    expected.end = { state: "closed", codes: [...new Set(codes)], clean };
    return expected;
  };
  let at = 0;
  let messageOpcode = 0;
  let parts: Uint8Array[] = [];
  let messageBytes = 0;
  let compressed = false;
  let compressedMessages = 0;
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
    const startsMessage = known && !control && opcode !== OP.continuation;
    if (rsv !== 0 && !(answers !== undefined && rsv === 4 && startsMessage)) codes.push(1002);
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
      if (opcode !== OP.continuation) {
        messageOpcode = opcode;
        compressed = rsv !== 0;
      }
      // Compressed text is checked once decompressed.
      if (messageOpcode === OP.text && !compressed && !validPrefix(join([...parts, payload]))) {
        return closed([1007]);
      }
      if (available < length) return expected;
      parts.push(payload);
      messageBytes += length;
      if (fin) {
        let message: Uint8Array | undefined = join(parts);
        const text = messageOpcode === OP.text;
        if (compressed) {
          expected.events.push({ type: "compressed", text, data: message });
          message = inflate(answers!, compressedMessages++, message);
          if (message === undefined) return closed([1007]);
        }
        if (text) {
          const decoded = decodeText(message);
          if (decoded === undefined) return closed([1007]);
          expected.events.push({ type: "message", data: decoded });
        } else {
          expected.events.push({ type: "message", data: message });
        }
        messageOpcode = 0;
        parts = [];
        messageBytes = 0;
      }
    } else {
      if (available < length) return expected;
      if (opcode === OP.ping) expected.events.push({ type: "ping", data: payload });
      else if (opcode === OP.pong) expected.events.push({ type: "pong", data: payload });
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

/** Where to cut a stream into chunks: at `points` anywhere in it, and every `every` bytes. */
interface Cuts {
  /** Cut points, taken modulo the stream's length plus one. */
  points: readonly number[];
  /** A chunk size, or 0 for none. */
  every: number;
}

/**
 * The most chunks `every` makes of one stream, so that large streams stay quick: a 65 KB
 * frame still comes in pieces of 256 bytes, and a core that held it whole before checking
 * its length would be caught long before its end.
 */
const MAX_EVEN_CHUNKS = 256;

/** Splits a stream at the cuts, into views of it. */
function chunksOf(stream: Uint8Array, cuts: Cuts): Uint8Array[] {
  const length = stream.length;
  const points = cuts.points.map((cut) => cut % (length + 1)).sort((a, b) => a - b);
  const step = cuts.every === 0
    ? Infinity
    : Math.max(cuts.every, Math.ceil(length / MAX_EVEN_CHUNKS));
  const chunks: Uint8Array[] = [];
  let from = 0;
  let next = 0;
  let i = 0;
  while (from < length) {
    while (i < points.length && points[i] <= from) i++;
    while (next <= from) next += step;
    const to = Math.min(i < points.length ? points[i] : length, next, length);
    chunks.push(stream.subarray(from, to));
    from = to;
  }
  return chunks;
}

/** A compressed message the fake decompressor has not answered yet. */
interface Waiting {
  data: Uint8Array;
  /** Its number among the compressed messages, from 0. */
  index: number;
  /** Whether the answer was put off until the next chunk has been received. */
  putOff: boolean;
}

/**
 * Feeds the chunks to a new connection, answering its `compressed` events when `answers`
 * are given, and checks it against the model.
 */
function check(
  stream: Uint8Array,
  cuts: Cuts,
  role: Role,
  limits: FuzzLimits,
  answers?: readonly Inflate[],
): void {
  const expected = reference(stream, role, limits, answers);
  const connection = new Connection({ role, limits, compression: answers !== undefined, now: 0 });
  const events: ConnectionEvent[] = [];
  const output: Uint8Array[] = [];
  let waiting: Waiting | undefined;
  let compressedMessages = 0;
  const take = (received: readonly ConnectionEvent[]) => {
    for (const event of received) {
      events.push(event);
      if (event.type !== "compressed") continue;
      assert.equal(waiting, undefined, "a compressed event while one waits");
      waiting = { data: event.data, index: compressedMessages++, putOff: false };
    }
  };
  /** Answers waiting messages, except one whose late answer waits for more input. */
  const answerWaiting = (moreInput: boolean) => {
    while (waiting !== undefined) {
      const { data: compressed, index, putOff } = waiting;
      if (answers![index % answers!.length].late && !putOff && moreInput) {
        waiting.putOff = true;
        return;
      }
      const data = inflate(answers!, index, compressed);
      waiting = undefined;
      take(
        data === undefined
          ? connection.fail(1007, "Invalid compressed data")
          : connection.decompressed(data, 0),
      );
    }
  };
  // Open with nothing to decompress, the connection holds at most one message, a control
  // frame and a header. Otherwise it may also hold what it has not parsed yet: the rest of
  // the chunk that closed it or held a compressed message, and what came while that
  // message was being decompressed.
  const settledBound = limits.maxMessageBytes + MAX_CONTROL_BYTES + MAX_HEADER_BYTES;
  let unparsed = 0;
  // A copy: the connection unmasks its input in place.
  const chunks = chunksOf(stream.slice(), cuts);
  for (const [i, chunk] of chunks.entries()) {
    if (connection.state !== "closed") unparsed += chunk.length;
    take(connection.receive(chunk, 0));
    answerWaiting(i + 1 < chunks.length);
    if (connection.state === "open" && waiting === undefined) unparsed = 0;
    const bound = settledBound + unparsed;
    assert.ok(
      connection.bufferedInputBytes <= bound,
      `holds ${connection.bufferedInputBytes} bytes of input, more than ${bound}`,
    );
    output.push(...connection.takeOutput());
  }
  const closes = events.filter((event): event is Extract<ConnectionEvent, { type: "close" }> =>
    event.type === "close"
  );
  assert.deepEqual(events.filter((event) => event.type !== "close"), expected.events);
  const frames: WireFrame[] = new FrameDecoder().push(join(output));
  for (const frame of frames) assert.equal(frame.masked, role === "client", "our frames' mask");
  const pongs = expected.events.flatMap((event) =>
    event.type === "ping" ? [{ opcode: OP.pong, data: event.data }] : []
  );
  if (expected.end.state === "open") {
    assert.equal(connection.state, "open");
    assert.equal(closes.length, 0);
    assert.deepEqual(frames.map((frame) => ({ opcode: frame.opcode, data: frame.payload })), pongs);
    return;
  }
  assert.equal(connection.state, "closed");
  assert.equal(connection.canSend, false);
  assert.equal(closes.length, 1, "one close event");
  assert.equal(events.at(-1)?.type, "close", "the close event last");
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

const limitsArbitrary: fc.Arbitrary<FuzzLimits> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      { maxMessageBytes: 64, maxFrameBytes: 64 },
      { maxMessageBytes: 300, maxFrameBytes: 100 },
      { maxMessageBytes: 4096, maxFrameBytes: 4096 },
    ),
  },
  // Large enough for some 64-bit frames, not for all.
  { weight: 1, arbitrary: fc.constant({ maxMessageBytes: 100_000, maxFrameBytes: 65_800 }) },
);

/**
 * Cut points anywhere in a stream, and now and then chunks of one size throughout, from
 * one byte at a time up: a large frame then arrives in many small chunks, so a core that
 * buffered it before checking its length would be caught holding too much.
 */
const cutsArbitrary: fc.Arbitrary<Cuts> = fc.record({
  points: fc.array(fc.nat(), { maxLength: 12 }),
  every: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }) },
    { weight: 1, arbitrary: fc.integer({ min: 17, max: 2048 }) },
  ),
});

/** How the fake decompressor answers compressed messages, in turn. */
const answersArbitrary: fc.Arbitrary<Inflate[]> = fc.array(
  fc.tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: "same" as const }) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.string({ maxLength: 20 }).map(utf8),
        ).map((data) => ({ kind: "bytes" as const, data })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: "fail" as const }) },
    ),
    fc.boolean(),
  ).map(([answer, late]) => ({ ...answer, late })),
  { minLength: 1, maxLength: 4 },
);

/**
 * A message or control frame of a valid conversation, as frames. With `compression`,
 * messages may be compressed (RSV1 on their first frame), and now and then a frame
 * carries a reserved bit it may not: RSV1 on a control or continuation frame, RSV2, RSV3.
 */
function itemArbitrary(
  mask: () => fc.Arbitrary<Uint8Array | false>,
  compression: boolean,
): fc.Arbitrary<Uint8Array[]> {
  const stray = (bits: number[]) =>
    compression
      ? fc.oneof(
        { weight: 30, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constantFrom(...bits) },
      )
      : fc.constant(0);
  // RSV1 is no stray bit on the first frame of a message: it marks it compressed.
  const strayOnFirst = stray([1, 2]);
  const strayOnOthers = stray([1, 2, 4]);
  const frame = (opcode: number, payload: Uint8Array, fin = true, rsv = 0) =>
    fc.tuple(mask(), opcode === OP.text || opcode === OP.binary ? strayOnFirst : strayOnOthers)
      .map(([key, bits]) => encodeFrame({ opcode, payload, fin, rsv: rsv | bits, mask: key }));
  const control = (opcode: number) =>
    fc.uint8Array({ maxLength: 125, size: "max" }).chain((payload) => frame(opcode, payload))
      .map((f) => [f]);
  const message = fc.tuple(
    fc.oneof(
      {
        weight: 15,
        arbitrary: fc.string({ unit: "binary", maxLength: 100, size: "max" }).map((text) => ({
          opcode: OP.text,
          data: utf8(text),
        })),
      },
      {
        weight: 15,
        arbitrary: fc.uint8Array({ maxLength: 300, size: "max" }).map((data) => ({
          opcode: OP.binary,
          data,
        })),
      },
      // Now and then a frame long enough for the 64-bit length form.
      {
        weight: 1,
        arbitrary: fc.tuple(fc.integer({ min: 65_536, max: 66_000 }), fc.nat({ max: 255 })).map((
          [length, fill],
        ) => ({ opcode: OP.binary, data: new Uint8Array(length).fill(fill) })),
      },
    ),
    fc.array(fc.nat(), { maxLength: 4 }),
    fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 2 }),
    compression ? fc.boolean() : fc.constant(false),
  ).chain(([{ opcode, data }, cuts, pings, compressed]) => {
    // Fragments at the cut points (characters may split), with pings after the first.
    const parts = chunksOf(data, { points: cuts, every: 0 });
    if (parts.length === 0) parts.push(new Uint8Array(0));
    const frames = parts.map((part, i) =>
      i === 0
        ? frame(opcode, part, parts.length === 1, compressed ? 4 : 0)
        : frame(OP.continuation, part, i === parts.length - 1)
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

/**
 * A valid stream for a connection in `role`, possibly ending with a Close; with
 * `compression`, see {@linkcode itemArbitrary}.
 */
function streamArbitrary(role: Role, compression = false): fc.Arbitrary<Uint8Array> {
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
  return fc.tuple(fc.array(itemArbitrary(mask, compression), { maxLength: 6 }), closing).map(
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

/** A role, and a valid stream for it. */
const roleAndStream = (compression: boolean) =>
  fc.oneof(
    ...(["server", "client"] as const).map((role) =>
      streamArbitrary(role, compression).map((stream) => [role, stream] as const)
    ),
  );

const runs = (seed: number, numRuns: number) => ({
  seed,
  numRuns,
  endOnFailure: true,
  // The failure crosses from the worker as text.
  includeErrorInReport: true,
});

/** The fuzz properties by name, each run in a worker with the seed it is given. */
const properties: Record<string, (seed: number) => void> = {
  valid: (seed) =>
    fc.assert(
      fc.property(
        roleAndStream(false),
        cutsArbitrary,
        limitsArbitrary,
        ([role, stream], cuts, limits) => check(stream, cuts, role, limits),
      ),
      runs(seed, 8_000),
    ),
  mutated: (seed) =>
    fc.assert(
      fc.property(
        roleAndStream(false),
        fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }),
        cutsArbitrary,
        limitsArbitrary,
        ([role, stream], mutations, cuts, limits) =>
          check(mutations.reduce(mutate, stream), cuts, role, limits),
      ),
      runs(seed, 25_000),
    ),
  random: (seed) => {
    // A valid first byte half the time, so more inputs get past the first header.
    const start = fc.oneof(
      fc.constant(new Uint8Array(0)),
      fc.constantFrom(bytes(0x81), bytes(0x82), bytes(0xc1), bytes(0xc2)),
    );
    fc.assert(
      fc.property(
        start,
        fc.uint8Array({ maxLength: 300 }),
        cutsArbitrary,
        roleArbitrary,
        limitsArbitrary,
        fc.option(answersArbitrary),
        (first, rest, cuts, role, limits, answers) =>
          check(join([first, rest]), cuts, role, limits, answers ?? undefined),
      ),
      runs(seed, 15_000),
    );
  },
  compressed: (seed) =>
    fc.assert(
      fc.property(
        roleAndStream(true),
        // Half the streams as built, so more of them reach their compressed messages.
        fc.oneof(fc.constant([]), fc.array(mutationArbitrary, { minLength: 1, maxLength: 2 })),
        cutsArbitrary,
        limitsArbitrary,
        answersArbitrary,
        ([role, stream], mutations, cuts, limits, answers) =>
          check(mutations.reduce(mutate, stream), cuts, role, limits, answers),
      ),
      runs(seed, 10_000),
    ),
  /** Never answers: the watchdog must stop it. */
  hang: () => {
    for (;;) Math.random();
  },
};

/**
 * How long a property may go without answering before its worker is stopped and the test
 * fails: many times what the slowest needs on a busy two-core machine.
 */
const ANSWER_TIMEOUT_MS = 45_000;

/** The worker the properties run in, started on first use and again after a hang. */
let worker: Worker | undefined;

/**
 * Runs a property in a worker thread; rejects with its failure, or when it has not
 * answered within `timeoutMs`, after stopping the worker.
 */
function runInWorker(name: string, seed: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const running = worker ??= new Worker(new URL(import.meta.url));
    // An idle worker does not keep the process alive; the timer below does while it runs.
    running.unref();
    const settle = (failure: Error | undefined) => {
      clearTimeout(timer);
      // Only our listeners: Node's Worker has its own.
      running.off("message", onMessage).off("error", settle);
      if (failure === undefined) return resolve();
      worker = undefined;
      running.terminate().finally(() => reject(failure));
    };
    const onMessage = (failure: string | null) =>
      settle(
        failure === null
          ? undefined
          : new Error(`${failure}\n(FUZZ_SEED=${seed} repeats this run)`),
      );
    const timer = setTimeout(() =>
      settle(
        new Error(
          `The "${name}" property gave no answer in ${timeoutMs} ms: an input may hang the ` +
            `core (FUZZ_SEED=${seed} repeats this run)`,
        ),
      ), timeoutMs);
    running.on("message", onMessage).on("error", settle);
    running.postMessage({ name, seed });
  });
}

if (isMainThread) {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`FUZZ_SEED must be an integer, got "${process.env.FUZZ_SEED}"`);
  }
  console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);
  // The test's own timeout is a backstop: the watchdog above answers first.
  const fuzz = (title: string, name: string) =>
    test(
      title,
      { timeout: ANSWER_TIMEOUT_MS + 10_000 },
      () => runInWorker(name, seed, ANSWER_TIMEOUT_MS),
    );

  fuzz("fuzz: valid streams in random chunks deliver exactly their events", "valid");
  fuzz(
    "fuzz: mutated streams (bit flips, truncations, splices) end open or with one close",
    "mutated",
  );
  fuzz("fuzz: random bytes end open or with one close, with compression or not", "random");
  fuzz(
    "fuzz: compressed (RSV1) streams, mutated or not, decompressed, late or failing, end " +
      "open with their events in order or with one close",
    "compressed",
  );

  test(
    "fuzz: a property that never answers is stopped and fails",
    { timeout: 30_000 },
    () => assert.rejects(runInWorker("hang", seed, 500), /gave no answer in 500 ms/),
  );

  test("fuzz: the reference model agrees with hand-checked streams", () => {
    const limits = { maxMessageBytes: 64, maxFrameBytes: 64 };
    const masked = (opcode: number, payload: Uint8Array | string, fin = true, rsv = 0) =>
      encodeFrame({ opcode, payload, fin, rsv });
    const closed = (codes: number[], clean = false) => ({ state: "closed", codes, clean });
    assert.deepEqual(reference(masked(OP.text, "hi"), "server", limits).events, [
      { type: "message", data: "hi" },
    ]);
    assert.deepEqual(reference(masked(OP.text, "hi"), "client", limits).end, closed([1002]));
    assert.deepEqual(
      reference(
        join([masked(OP.text, bytes(0xce), false), masked(OP.continuation, bytes(0xba))]),
        "server",
        limits,
      ).events,
      [{ type: "message", data: "κ" }],
    );
    assert.deepEqual(
      reference(masked(OP.binary, new Uint8Array(65)), "server", limits).end,
      closed([1009]),
    );
    assert.deepEqual(
      reference(masked(OP.close, closePayload(4000)), "server", limits).end,
      closed([4000], true),
    );
    const [ping] = reference(masked(OP.ping, "p"), "server", limits).events;
    assert.ok(ping.type === "ping" && sameBytes(ping.data, utf8("p")));
  });

  test("fuzz: the reference model agrees with hand-checked compressed streams", () => {
    const limits = { maxMessageBytes: 64, maxFrameBytes: 64 };
    const masked = (opcode: number, payload: Uint8Array | string, fin = true, rsv = 0) =>
      encodeFrame({ opcode, payload, fin, rsv });
    const same: Inflate[] = [{ kind: "same", late: false }];
    const closed = (codes: number[]) => ({ state: "closed", codes, clean: false });
    // RSV1 on the first frame: a compressed event, then the message as decompressed.
    const fragmented = join([
      masked(OP.text, "h", false, 4),
      masked(OP.ping, "p"),
      masked(OP.continuation, "i"),
    ]);
    assert.deepEqual(reference(fragmented, "server", limits, same).events, [
      { type: "ping", data: utf8("p") },
      { type: "compressed", text: true, data: utf8("hi") },
      { type: "message", data: "hi" },
    ]);
    assert.deepEqual(
      reference(fragmented, "server", limits, [{ kind: "bytes", data: bytes(0xff), late: true }])
        .end,
      closed([1007]),
    );
    assert.deepEqual(
      reference(masked(OP.binary, "x", true, 4), "server", limits, [{ kind: "fail", late: false }])
        .end,
      closed([1007]),
    );
    // Without compression, and on control, continuation frames: 1002. RSV2 and RSV3: 1002.
    assert.deepEqual(reference(fragmented, "server", limits).end, closed([1002]));
    for (
      const stream of [
        masked(OP.ping, "", true, 4),
        join([masked(OP.text, "h", false), masked(OP.continuation, "i", true, 4)]),
        masked(OP.text, "hi", true, 2),
        masked(OP.binary, "hi", true, 5),
      ]
    ) {
      assert.deepEqual(reference(stream, "server", limits, same).end, closed([1002]));
    }
  });
} else {
  parentPort!.on("message", ({ name, seed }: { name: string; seed: number }) => {
    let failure: string | null = null;
    try {
      properties[name](seed);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    parentPort!.postMessage(failure);
  });
}

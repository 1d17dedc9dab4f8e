import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketError } from "../../src/core/errors.ts";
import {
  buildFrame,
  concat,
  type Frame,
  type FrameHeader,
  frameHeaderSize,
  FrameParser,
  type FrameParserOptions,
  writeFrameHeader,
} from "../../src/core/frame.ts";
import {
  byteByByte,
  hex,
  join,
  KEY,
  parseFrames,
  randomBytes,
  randomChunks,
  seededRandom,
  toHex,
  utf8,
} from "../helpers/frames.ts";

const HELLO = utf8("Hello");

/** A parser with no size limit worth mentioning. */
function parser(role: "server" | "client", options: Partial<FrameParserOptions> = {}) {
  return new FrameParser({ role, maxFrameBytes: Number.MAX_SAFE_INTEGER, ...options });
}

/** Parses `bytes` (as one chunk) and returns every frame, with no bytes left over. */
function parseAll(bytes: Uint8Array, role: "server" | "client"): Frame[] {
  return parseFrames([bytes], role);
}

/** Asserts that parsing `bytes` as `role` throws this close code and reason. */
function assertRejected(
  bytes: Uint8Array,
  role: "server" | "client",
  closeCode: number,
  reason: string,
  options: Partial<FrameParserOptions> = {},
): void {
  const frameParser = parser(role, options);
  frameParser.push(bytes);
  assert.throws(() => {
    while (frameParser.next() !== undefined);
  }, (error) => {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${error}`);
    assert.equal(error.closeCode, closeCode);
    assert.equal(error.reason, reason);
    return true;
  });
}

/** Asserts that two byte arrays are equal, naming the first difference (fast on MiBs). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** A frame as the parser returns it. */
function frame(
  opcode: number,
  payload: Uint8Array,
  { fin = true, rsv = 0, masked = false } = {},
): Frame {
  return { fin, rsv, opcode, masked, length: payload.length, payload };
}

/** Bytes 0, 1, 2, ... 255, 0, 1, ... of a given length: easy to recognise in a diff. */
function counting(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

describe("RFC 6455 §5.2 base framing: header, lengths, opcodes, RSV bits", () => {
  test("FrameParser rejects a 64-bit length with the top bit set", () => {
    assertRejected(
      hex("82 7f 80 00 00 00 00 01 00 00"),
      "client",
      1002,
      "Frame length has its most significant bit set",
    );
    assertRejected(
      hex("82 ff ff ff ff ff ff ff ff ff 37 fa 21 3d"),
      "server",
      1002,
      "Frame length has its most significant bit set",
    );
  });

  test("FrameParser rejects a 16-bit length that would fit in 7 bits with 1002", () => {
    for (const length of ["00 00", "00 05", "00 7d"]) {
      assertRejected(
        hex(`82 7e ${length}`),
        "client",
        1002,
        "Frame length not in its minimal form",
      );
    }
    assert.equal(parseAll(join(hex("82 7e 00 7e"), counting(126)), "client").length, 1);
  });

  test("FrameParser rejects a 64-bit length that would fit in 16 bits with 1002", () => {
    for (
      const length of [
        "00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 7d",
        "00 00 00 00 00 00 ff ff",
      ]
    ) {
      assertRejected(
        hex(`82 7f ${length}`),
        "client",
        1002,
        "Frame length not in its minimal form",
      );
    }
  });

  test("FrameParser rejects reserved opcodes 3-7 and 0xB-0xF with 1002", () => {
    for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      assertRejected(
        Uint8Array.of(0x80 | opcode, 0x00),
        "client",
        1002,
        `Reserved opcode ${opcode}`,
      );
      assertRejected(
        join(Uint8Array.of(0x80 | opcode, 0x80), KEY),
        "server",
        1002,
        `Reserved opcode ${opcode}`,
      );
    }
  });

  test("FrameParser reports RSV bits and leaves refusing them to its caller", () => {
    assert.deepEqual(parseAll(hex("c1 01 61 a2 00 91 00"), "client"), [
      frame(0x1, utf8("a"), { rsv: 4 }),
      frame(0x2, new Uint8Array(0), { rsv: 2 }),
      frame(0x1, new Uint8Array(0), { rsv: 1 }),
    ]);
  });

  test("FrameParser calls onHeader before any payload byte, and its error refuses the frame", () => {
    const calls: string[] = [];
    const frameParser = parser("client", {
      onHeader: (header) => {
        calls.push(`header ${header.opcode} ${header.length}`);
        if (header.opcode === 0x2) throw new WebSocketError(1003, "No binary");
      },
      onPayload: (piece) => calls.push(`payload ${piece.length}`),
    });
    frameParser.push(hex("81 02 68 69 82 02 00 00"));
    assert.deepEqual(frameParser.next(), frame(0x1, utf8("hi")));
    assert.throws(() => frameParser.next(), {
      name: "WebSocketError",
      closeCode: 1003,
      reason: "No binary",
    });
    assert.deepEqual(calls, ["header 1 2", "payload 2", "header 2 2"]);
  });

  test("FrameParser passes each unmasked payload piece to onPayload with its offset", () => {
    const pieces: [string, number][] = [];
    const frameParser = parser("server", {
      onPayload: (piece, offset) => pieces.push([new TextDecoder().decode(piece), offset]),
    });
    const bytes = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    for (const chunk of [bytes.slice(0, 7), bytes.slice(7, 9), bytes.slice(9)]) {
      frameParser.push(chunk);
      while (frameParser.next() !== undefined);
    }
    assert.deepEqual(pieces, [["H", 0], ["el", 1], ["lo", 3]]);
  });

  test("FrameParser calls onPayload once with an empty piece for an empty frame", () => {
    const pieces: number[] = [];
    const frameParser = parser("client", { onPayload: (piece) => pieces.push(piece.length) });
    frameParser.push(hex("82 00"));
    assert.deepEqual(frameParser.next(), frame(0x2, new Uint8Array(0)));
    assert.deepEqual(pieces, [0]);
  });

  test("FrameParser calls its hooks with hookThis as this, so one pair serves many", () => {
    const seen: string[] = [];
    function onHeader(this: string, header: { opcode: number }): void {
      seen.push(`${this} header ${header.opcode}`);
    }
    function onPayload(this: string, piece: Uint8Array, offset: number): void {
      seen.push(`${this} payload ${piece.length} at ${offset}`);
    }
    for (const name of ["a", "b"]) {
      const frameParser = new FrameParser<string>({
        role: "client",
        maxFrameBytes: 1 << 20,
        onHeader,
        onPayload,
        hookThis: name,
      });
      frameParser.push(hex("81 01 61"));
      assert.deepEqual(frameParser.next(), frame(0x1, utf8("a")));
    }
    assert.deepEqual(seen, ["a header 1", "a payload 1 at 0", "b header 1", "b payload 1 at 0"]);
  });

  test("FrameParser.push() throws while the previous chunk is not fully parsed", () => {
    const frameParser = parser("client");
    frameParser.push(hex("81 01 61 81 01 62"));
    assert.deepEqual(frameParser.next(), frame(0x1, utf8("a")));
    assert.throws(() => frameParser.push(hex("81 01 63")), {
      name: "Error",
      message: "Cannot push bytes: the previous chunk has not been fully parsed",
    });
    assert.deepEqual(frameParser.next(), frame(0x1, utf8("b")));
    assert.equal(frameParser.next(), undefined);
    frameParser.push(hex("81 01 63"));
    assert.deepEqual(frameParser.next(), frame(0x1, utf8("c")));
  });

  test("FrameParser.bufferedBytes counts the bytes of a frame not yet returned", () => {
    const frameParser = parser("client");
    assert.equal(frameParser.bufferedBytes, 0);
    frameParser.push(hex("82 7e"));
    assert.equal(frameParser.next(), undefined);
    assert.equal(frameParser.bufferedBytes, 2);
    frameParser.push(hex("01 00"));
    assert.equal(frameParser.next(), undefined);
    assert.equal(frameParser.bufferedBytes, 4);
    frameParser.push(counting(100));
    assert.equal(frameParser.next(), undefined);
    assert.equal(frameParser.bufferedBytes, 104);
    frameParser.push(counting(156));
    assert.equal(frameParser.next()?.length, 256);
    assert.equal(frameParser.bufferedBytes, 0);
  });

  test("buildFrame() writes fin, RSV bits and opcode into the first byte", () => {
    assert.equal(toHex(buildFrame(0x2, new Uint8Array(0), { fin: false, rsv: 4 })), "42 00");
    assert.equal(toHex(buildFrame(0x0, new Uint8Array(0), { rsv: 7 })), "f0 00");
    assert.equal(toHex(buildFrame(0x8, hex("03 e8"))), "88 02 03 e8");
  });

  test("buildFrame() picks the shortest length encoding at each boundary", () => {
    assert.equal(toHex(buildFrame(0x2, counting(125)).subarray(0, 2)), "82 7d");
    assert.equal(toHex(buildFrame(0x2, counting(126)).subarray(0, 4)), "82 7e 00 7e");
    assert.equal(toHex(buildFrame(0x2, counting(65535)).subarray(0, 4)), "82 7e ff ff");
    assert.equal(
      toHex(buildFrame(0x2, counting(65536)).subarray(0, 10)),
      "82 7f 00 00 00 00 00 01 00 00",
    );
  });

  test("writeFrameHeader() writes a 64-bit length above 2^32 and the mask at an offset", () => {
    const target = new Uint8Array(20).fill(0xee);
    const size = writeFrameHeader(target, 3, 0x2, 2 ** 40 + 0x01020304, { mask: KEY, fin: false });
    assert.equal(size, 14);
    assert.equal(
      toHex(target),
      "ee ee ee 02 ff 00 00 01 00 01 02 03 04 37 fa 21 3d ee ee ee",
    );
    const headers: FrameHeader[] = [];
    const frameParser = parser("server", { onHeader: (header) => headers.push(header) });
    frameParser.push(target.slice(3, 17));
    assert.equal(frameParser.next(), undefined);
    assert.deepEqual(headers, [{
      fin: false,
      rsv: 0,
      opcode: 2,
      masked: true,
      length: 2 ** 40 + 0x01020304,
    }]);
  });
});

describe("RFC 6455 §5.3 client-to-server masking: the parser refuses the wrong mask bit", () => {
  test("FrameParser on the server rejects an unmasked frame with 1002", () => {
    assertRejected(hex("81 05 48 65 6c 6c 6f"), "server", 1002, "Client frames must be masked");
  });

  test("FrameParser on the client rejects a masked frame with 1002", () => {
    assertRejected(
      hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
      "client",
      1002,
      "Server frames must not be masked",
    );
  });
});

describe("RFC 6455 §5.5 control frames: at most 125 bytes, never fragmented", () => {
  test("FrameParser rejects a fragmented control frame with 1002", () => {
    for (const opcode of [0x8, 0x9, 0xa]) {
      assertRejected(Uint8Array.of(opcode, 0x00), "client", 1002, "Fragmented control frame");
    }
  });

  test("FrameParser rejects a control frame over 125 bytes with 1002", () => {
    for (const opcode of [0x8, 0x9, 0xa]) {
      const header = Uint8Array.of(0x80 | opcode, 0x7e, 0x00, 0x7e);
      assertRejected(join(header, counting(126)), "client", 1002, "Control frame too long");
    }
    assertRejected(hex("89 7f 00 00 00 00 00 01 00 00"), "client", 1002, "Control frame too long");
  });

  test("FrameParser accepts a 125-byte control frame", () => {
    const payload = counting(125);
    assert.deepEqual(parseAll(join(hex("89 7d"), payload), "client"), [frame(0x9, payload)]);
  });
});

describe("RFC 6455 §5.7 the RFC's example frames, parsed and built byte-exact", () => {
  test("FrameParser parses RFC 6455 §5.7's single-frame unmasked text message", () => {
    const bytes = hex("81 05 48 65 6c 6c 6f");
    assert.deepEqual(parseAll(bytes, "client"), [frame(0x1, HELLO)]);
  });

  test("buildFrame() builds RFC 6455 §5.7's single-frame unmasked text message", () => {
    assert.equal(toHex(buildFrame(0x1, HELLO)), "81 05 48 65 6c 6c 6f");
  });

  test("FrameParser parses RFC 6455 §5.7's single-frame masked text message", () => {
    const bytes = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    assert.deepEqual(parseAll(bytes, "server"), [frame(0x1, HELLO, { masked: true })]);
  });

  test("buildFrame() builds RFC 6455 §5.7's single-frame masked text message", () => {
    const built = buildFrame(0x1, HELLO, { mask: hex("37 fa 21 3d") });
    assert.equal(toHex(built), "81 85 37 fa 21 3d 7f 9f 4d 51 58");
  });

  test("FrameParser parses RFC 6455 §5.7's fragmented unmasked text message", () => {
    const bytes = hex("01 03 48 65 6c 80 02 6c 6f");
    assert.deepEqual(parseAll(bytes, "client"), [
      frame(0x1, utf8("Hel"), { fin: false }),
      frame(0x0, utf8("lo")),
    ]);
  });

  test("buildFrame() builds RFC 6455 §5.7's fragmented unmasked text message", () => {
    assert.equal(toHex(buildFrame(0x1, utf8("Hel"), { fin: false })), "01 03 48 65 6c");
    assert.equal(toHex(buildFrame(0x0, utf8("lo"))), "80 02 6c 6f");
  });

  test("FrameParser parses RFC 6455 §5.7's unmasked ping", () => {
    assert.deepEqual(parseAll(hex("89 05 48 65 6c 6c 6f"), "client"), [frame(0x9, HELLO)]);
  });

  test("buildFrame() builds RFC 6455 §5.7's unmasked ping", () => {
    assert.equal(toHex(buildFrame(0x9, HELLO)), "89 05 48 65 6c 6c 6f");
  });

  test("FrameParser parses RFC 6455 §5.7's masked pong", () => {
    const bytes = hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
    assert.deepEqual(parseAll(bytes, "server"), [frame(0xa, HELLO, { masked: true })]);
  });

  test("buildFrame() builds RFC 6455 §5.7's masked pong", () => {
    const built = buildFrame(0xa, HELLO, { mask: hex("37 fa 21 3d") });
    assert.equal(toHex(built), "8a 85 37 fa 21 3d 7f 9f 4d 51 58");
  });

  test("FrameParser parses RFC 6455 §5.7's 256-byte unmasked binary message", () => {
    const payload = counting(256);
    const frames = parseAll(join(hex("82 7e 01 00"), payload), "client");
    assert.deepEqual(frames, [frame(0x2, payload)]);
  });

  test("buildFrame() builds RFC 6455 §5.7's 256-byte unmasked binary message", () => {
    const payload = counting(256);
    const built = buildFrame(0x2, payload);
    assert.equal(toHex(built.subarray(0, 4)), "82 7e 01 00");
    assertSameBytes(built, join(hex("82 7e 01 00"), payload));
  });

  test("FrameParser parses RFC 6455 §5.7's 64 KiB unmasked binary message", () => {
    const payload = counting(65536);
    const frames = parseAll(join(hex("82 7f 00 00 00 00 00 01 00 00"), payload), "client");
    assert.equal(frames.length, 1);
    assert.deepEqual({ ...frames[0], payload: undefined }, {
      ...frame(0x2, payload),
      payload: undefined,
    });
    assertSameBytes(frames[0].payload, payload);
  });

  test("buildFrame() builds RFC 6455 §5.7's 64 KiB unmasked binary message", () => {
    const payload = counting(65536);
    const built = buildFrame(0x2, payload);
    assert.equal(toHex(built.subarray(0, 10)), "82 7f 00 00 00 00 00 01 00 00");
    assertSameBytes(built, join(hex("82 7f 00 00 00 00 00 01 00 00"), payload));
  });

  test("FrameParser parses RFC 6455 §5.7's examples one byte at a time", () => {
    const vectors: [string, "server" | "client"][] = [
      ["81 05 48 65 6c 6c 6f", "client"],
      ["81 85 37 fa 21 3d 7f 9f 4d 51 58", "server"],
      ["01 03 48 65 6c 80 02 6c 6f", "client"],
      ["89 05 48 65 6c 6c 6f", "client"],
      ["8a 85 37 fa 21 3d 7f 9f 4d 51 58", "server"],
    ];
    for (const [bytes, role] of vectors) {
      assert.deepEqual(
        parseFrames(byteByByte(hex(bytes)), role),
        parseAll(hex(bytes), role),
        bytes,
      );
    }
  });
});

describe("RFC 6455 §10.4 implementation-specific limits: frame sizes", () => {
  test("FrameParser rejects a 64-bit length above 2^53 - 1 with 1009", () => {
    assertRejected(hex("82 7f 00 20 00 00 00 00 00 00"), "client", 1009, "Frame too big");
    assertRejected(hex("82 7f 7f ff ff ff ff ff ff ff"), "client", 1009, "Frame too big");
  });

  test("FrameParser reads a 64-bit length up to 2^53 - 1 from the header", () => {
    const headers: FrameHeader[] = [];
    const frameParser = parser("client", { onHeader: (header) => headers.push(header) });
    frameParser.push(hex("82 7f 00 1f ff ff ff ff ff ff"));
    assert.equal(frameParser.next(), undefined);
    assert.deepEqual(headers, [{
      fin: true,
      rsv: 0,
      opcode: 2,
      masked: false,
      length: 2 ** 53 - 1,
    }]);
  });

  test("FrameParser rejects a frame over maxFrameBytes with 1009 from its header alone", () => {
    const payloadSeen: number[] = [];
    const options = {
      maxFrameBytes: 1000,
      onPayload: (piece: Uint8Array) => payloadSeen.push(piece.length),
    };
    assertRejected(hex("82 7e 03 e9"), "client", 1009, "Frame too big", options);
    assertRejected(hex("82 fe 03 e9 37 fa 21 3d"), "server", 1009, "Frame too big", options);
    assertRejected(hex("82 7f 00 00 00 01 00 00 00 00"), "client", 1009, "Frame too big", options);
    assert.deepEqual(payloadSeen, []);
    assert.equal(parseAll(join(hex("82 7e 03 e8"), counting(1000)), "client").length, 1);
  });
});

describe("Any chunking: split headers, mixed streams, round trips", () => {
  test("FrameParser parses a header split at every byte, for every header size", () => {
    const cases: [Uint8Array, "server" | "client"][] = [
      [buildFrame(0x1, utf8("hi")), "client"],
      [buildFrame(0x2, counting(300)), "client"],
      [buildFrame(0x2, counting(70000)), "client"],
      [buildFrame(0x1, utf8("hi"), { mask: KEY }), "server"],
      [buildFrame(0x2, counting(300), { mask: KEY }), "server"],
      [buildFrame(0x2, counting(70000), { mask: KEY }), "server"],
    ];
    for (const [bytes, role] of cases) {
      const expected = parseAll(bytes.slice(), role);
      for (let cut = 1; cut <= 14; cut++) {
        for (let second = cut + 1; second <= 15; second++) {
          const chunks = [bytes.slice(0, cut), bytes.slice(cut, second), bytes.slice(second)];
          const frames = parseFrames(chunks.filter((chunk) => chunk.length > 0), role);
          assert.equal(frames.length, 1, `cut at ${cut} and ${second}`);
          assert.deepEqual({ ...frames[0], payload: 0 }, { ...expected[0], payload: 0 });
          assertSameBytes(frames[0].payload, expected[0].payload, `cut at ${cut} and ${second}`);
        }
      }
    }
  });

  test("FrameParser gives the same frames for a mixed stream fed whole and one byte at a time", () => {
    const random = seededRandom(0x5eed);
    const parts: Uint8Array[] = [];
    const sizes = [0, 1, 5, 125, 126, 127, 300, 65535, 65536, 65537];
    for (let i = 0; i < 60; i++) {
      const size = sizes[random(sizes.length)];
      const kind = random(5);
      if (kind === 0) {
        parts.push(buildFrame(0x9, randomBytes(random, Math.min(size, 125)), { mask: KEY }));
      } else if (kind === 1) {
        parts.push(buildFrame(0xa, randomBytes(random, Math.min(size, 20)), { mask: KEY }));
      } else {
        const opcode = kind === 2 ? 0x1 : 0x2;
        parts.push(buildFrame(opcode, randomBytes(random, size), { mask: KEY, fin: kind !== 4 }));
        if (kind === 4) parts.push(buildFrame(0x0, randomBytes(random, size), { mask: KEY }));
      }
    }
    const stream = join(...parts);
    const whole = parseFrames([stream], "server");
    const oneByOne = parseFrames(byteByByte(stream), "server");
    const randomSplit = parseFrames(randomChunks(stream, random, 3000), "server");
    assert.equal(whole.length, parts.length);
    for (const frames of [oneByOne, randomSplit]) {
      assert.equal(frames.length, whole.length);
      frames.forEach((parsed, i) => {
        assert.deepEqual({ ...parsed, payload: 0 }, { ...whole[i], payload: 0 }, `frame ${i}`);
        assertSameBytes(parsed.payload, whole[i].payload, `frame ${i}`);
      });
    }
  });

  test("buildFrame() → FrameParser round-trips every size class, masked and not, in random chunks", () => {
    const random = seededRandom(20240611);
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 65537, 3 * 1024 * 1024];
    for (const size of sizes) {
      const payload = randomBytes(random, size);
      for (const opcode of [0x1, 0x2]) {
        for (const masked of [false, true]) {
          const mask = masked ? randomBytes(random, 4) : undefined;
          const fin = random(2) === 0;
          const bytes = buildFrame(opcode, payload, { mask, fin });
          assert.equal(bytes.length, frameHeaderSize(size, masked) + size);
          const maxChunk = [1, 13, 4096, 100_000][random(4)];
          const what = `size ${size}, opcode ${opcode}, masked ${masked}, chunks up to ${maxChunk}`;
          const frames = size > 70000 && maxChunk === 1
            ? parseFrames(randomChunks(bytes, random, 97), masked ? "server" : "client")
            : parseFrames(randomChunks(bytes, random, maxChunk), masked ? "server" : "client");
          assert.equal(frames.length, 1, what);
          assert.deepEqual({ ...frames[0], payload: 0 }, {
            fin,
            rsv: 0,
            opcode,
            masked,
            length: size,
            payload: 0,
          }, what);
          assertSameBytes(frames[0].payload, payload, what);
        }
      }
    }
  });
});

describe("Memory: views and copies of payloads (not an RFC rule)", () => {
  test("FrameParser returns a payload that lies whole in one chunk as a view, unmasked in place", () => {
    const chunk = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    const frameParser = parser("server");
    frameParser.push(chunk);
    const parsed = frameParser.next()!;
    assert.equal(parsed.payload.buffer, chunk.buffer);
    assert.equal(parsed.payload.byteOffset, 6);
    assert.equal(toHex(chunk.subarray(6)), toHex(HELLO));
  });

  test("FrameParser copies a payload's pieces that are small parts of their reads", () => {
    const payload = randomBytes(seededRandom(7), 1000);
    const bytes = buildFrame(0x2, payload, { mask: KEY });
    const frameParser = parser("server");
    const reads: Uint8Array[] = [];
    // Each byte arrives alone at the start of a 64 KiB read (the rest is not ours to keep).
    for (let i = 0; i < bytes.length - 1; i++) {
      const read = new Uint8Array(64 * 1024);
      read[0] = bytes[i];
      reads.push(read);
      frameParser.push(read.subarray(0, 1));
      assert.equal(frameParser.next(), undefined);
    }
    const retained = frameParser.retainedBytes;
    assert.ok(retained <= 2 * frameParser.bufferedBytes + 64, `${retained} bytes held`);
    frameParser.push(bytes.slice(-1));
    const parsed = frameParser.next()!;
    assertSameBytes(parsed.payload, payload);
    assert.ok(reads.every((read) => read.buffer !== parsed.payload.buffer));
    assert.equal(frameParser.retainedBytes, 0);
  });

  test("FrameParser holds memory for the payload bytes received, not the length announced", () => {
    const frameParser = parser("server");
    const header = buildFrame(0x2, new Uint8Array(16 * 1024 * 1024), { mask: KEY }).subarray(0, 15);
    frameParser.push(header.slice());
    assert.equal(frameParser.next(), undefined);
    assert.ok(frameParser.retainedBytes <= 64, `${frameParser.retainedBytes} bytes held`);
  });

  test("FrameParser copies a payload over full reads once, into one buffer from half-way", () => {
    const bytes = buildFrame(0x2, randomBytes(seededRandom(8), 300_000), { mask: KEY });
    const frameParser = parser("server");
    const reads: Uint8Array[] = [];
    let parsed: Frame | undefined;
    for (let at = 0; at < bytes.length; at += 65536) {
      reads.push(bytes.slice(at, at + 65536));
      frameParser.push(reads.at(-1)!);
      parsed = frameParser.next();
      if (parsed === undefined) {
        const { retainedBytes, bufferedBytes } = frameParser;
        assert.ok(retainedBytes <= 2 * bufferedBytes, `${retainedBytes} held for ${bufferedBytes}`);
      }
    }
    assert.equal(parsed?.length, 300_000);
    assert.ok(reads.every((read) => read.buffer !== parsed!.payload.buffer));
    assert.equal(parsed!.payload.buffer.byteLength, 300_000);
    assert.equal(frameParser.retainedBytes, 0);
  });

  test("buildFrame() copies the payload and never changes it, even when masking", () => {
    const payload = utf8("Hello");
    const built = buildFrame(0x1, payload, { mask: KEY });
    assert.equal(toHex(payload), "48 65 6c 6c 6f");
    payload[0] = 0;
    assert.equal(toHex(built), "81 85 37 fa 21 3d 7f 9f 4d 51 58");
  });
});

describe("Header sizes and joining bytes (not an RFC rule)", () => {
  test("frameHeaderSize() gives 2, 4 or 10 bytes, plus 4 for a mask", () => {
    const cases: [number, number][] = [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10], [
      2 ** 40,
      10,
    ]];
    for (const [length, size] of cases) {
      assert.equal(frameHeaderSize(length, false), size, `${length}`);
      assert.equal(frameHeaderSize(length, true), size + 4, `${length} masked`);
    }
  });

  test("concat() joins parts, and returns a single part as it is", () => {
    const one = hex("01 02");
    assert.equal(concat([one]), one);
    assert.deepEqual(concat([hex("01"), hex(""), hex("02 03")]), hex("01 02 03"));
    assert.deepEqual(concat([hex("01"), hex("02 03")], 3), hex("01 02 03"));
    assert.deepEqual(concat([]), new Uint8Array(0));
  });
});

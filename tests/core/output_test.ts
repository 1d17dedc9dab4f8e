import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildFrame } from "../../src/core/frame.ts";
import { OutputBuffer } from "../../src/core/output.ts";
import { hex, join, parseFrames, toHex, utf8 } from "../helpers/frames.ts";

/** Bytes 0, 1, 2, ... of a given length. */
function counting(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

describe("RFC 6455 §5.2 base framing: the frames we send, in order", () => {
  test("OutputBuffer writes many small frames out as one chunk", () => {
    const output = new OutputBuffer(false);
    output.writeText("hi");
    output.writeFrame(0x2, hex("01 02 03"));
    output.writeFrame(0x9, new Uint8Array(0));
    output.writeFrame(0x8, hex("03 e8"));
    assert.equal(output.byteLength, 4 + 5 + 2 + 4);
    const chunks = output.take();
    assert.equal(chunks.length, 1);
    assert.equal(toHex(chunks[0]), "81 02 68 69 82 03 01 02 03 89 00 88 02 03 e8");
    assert.equal(output.byteLength, 0);
  });

  test("OutputBuffer.take() gives an empty list when nothing was written", () => {
    const output = new OutputBuffer(false);
    assert.deepEqual(output.take(), []);
    output.writeText("a");
    output.take();
    assert.deepEqual(output.take(), []);
  });

  test("OutputBuffer.writeFrame() passes fin and RSV bits through", () => {
    const output = new OutputBuffer(false);
    output.writeFrame(0x1, utf8("Hel"), false);
    output.writeFrame(0x0, utf8("lo"), true, 4);
    assert.equal(toHex(output.take()[0]), "01 03 48 65 6c c0 02 6c 6f");
  });

  test("OutputBuffers writing in turn hand out only their own frames, in order", () => {
    const outputs = [new OutputBuffer(false), new OutputBuffer(false), new OutputBuffer(true)];
    const expected: Uint8Array[][] = outputs.map(() => []);
    const chunks: Uint8Array[][] = outputs.map(() => []);
    const copies: string[][] = outputs.map(() => []);
    const takeAll = () =>
      outputs.forEach((output, i) => {
        for (const chunk of output.take()) {
          chunks[i].push(chunk);
          copies[i].push(toHex(chunk));
        }
      });
    for (let round = 0; round < 60; round++) {
      const which = (round * 7) % 3;
      const payload = counting((round * 1931) % 9000);
      outputs[which].writeFrame(0x2, payload);
      expected[which].push(payload);
      outputs[(which + 1) % 3].writeText(`turn ${round} é`);
      expected[(which + 1) % 3].push(utf8(`turn ${round} é`));
      if (round % 9 === 8) takeAll();
    }
    takeAll();
    outputs.forEach((_, i) => {
      const frames = parseFrames(chunks[i], i === 2 ? "server" : "client");
      assert.deepEqual(frames.map((frame) => frame.payload), expected[i], `buffer ${i}`);
      assert.deepEqual(chunks[i].map(toHex), copies[i], `a chunk of buffer ${i} changed`);
    });
  });

  test("OutputBuffer's chunks, joined, are the frames in the order written", () => {
    const output = new OutputBuffer(false);
    const expected: Uint8Array[] = [];
    const large = counting(40_000);
    for (let i = 0; i < 30; i++) {
      const payload = i % 7 === 3 ? large : counting(i * 997 % 5000);
      output.writeFrame(0x2, payload);
      expected.push(buildFrame(0x2, payload));
      output.writeText(`message ${i} ✓`);
      expected.push(buildFrame(0x1, utf8(`message ${i} ✓`)));
    }
    const want = join(...expected);
    assert.equal(output.byteLength, want.length);
    const got = join(...output.take());
    assert.equal(got.length, want.length);
    assert.ok(got.every((byte, i) => byte === want[i]), "the stream differs");
  });
});

describe("RFC 6455 §5.3 client-to-server masking: the frames a client sends", () => {
  test("OutputBuffer copies a large payload it masks, leaving the caller's bytes alone", () => {
    const output = new OutputBuffer(true);
    const payload = counting(20_000);
    output.writeFrame(0x2, payload);
    const chunks = output.take();
    assert.equal(chunks.length, 2);
    assert.notEqual(chunks[1], payload);
    assert.notEqual(chunks[1].buffer, payload.buffer);
    assert.deepEqual(payload, counting(20_000), "the caller's payload is unchanged");
    const frames = parseFrames(chunks, "server");
    assert.equal(frames.length, 1);
    assert.equal(frames[0].masked, true);
    assert.deepEqual(frames[0].payload, payload);
  });

  test("OutputBuffer with masking masks every frame with a fresh key", () => {
    const output = new OutputBuffer(true);
    for (let i = 0; i < 2000; i++) output.writeText("Hello");
    output.writeFrame(0x2, hex("01 02 03"));
    const chunks = output.take();
    const frames = parseFrames(chunks, "server");
    assert.equal(frames.length, 2001);
    for (const frame of frames.slice(0, 2000)) {
      assert.equal(frame.masked, true);
      assert.equal(new TextDecoder().decode(frame.payload), "Hello");
    }
    assert.deepEqual(frames[2000].payload, hex("01 02 03"));
    // Each frame is 2 + 4 + 5 bytes; its key is at offset 2.
    const stream = join(...chunks);
    const keys = new Set<string>();
    for (let i = 0; i < 2000; i++) keys.add(toHex(stream.subarray(11 * i + 2, 11 * i + 6)));
    assert.ok(keys.size > 1990, `only ${keys.size} distinct keys in 2000 frames`);
  });

  test("OutputBuffer.writeText() with masking shrinks the reserved header too", () => {
    for (const text of ["a".repeat(42), "é".repeat(62), "€".repeat(42), "hi"]) {
      const output = new OutputBuffer(true);
      output.writeText(text);
      output.writeText("next");
      const chunks = output.take();
      assert.equal(output.byteLength, 0);
      const frames = parseFrames(chunks, "server");
      assert.deepEqual(
        frames.map((
          frame,
        ) => [frame.opcode, frame.masked, new TextDecoder().decode(frame.payload)]),
        [[1, true, text], [1, true, "next"]],
      );
      assert.equal(
        join(...chunks).length,
        buildFrame(1, utf8(text), { mask: hex("00 00 00 00") }).length + 10,
      );
    }
  });
});

describe("Memory: the arena, copies and views (not an RFC rule)", () => {
  test("OutputBuffer.take() never hands out its own list: changing the result changes nothing", () => {
    const output = new OutputBuffer(false);
    output.take().push(new Uint8Array([1, 2, 3]));
    assert.deepEqual(output.take(), []);
    assert.equal(output.byteLength, 0);
  });

  test("OutputBuffer never overwrites arena bytes it has handed out", () => {
    const output = new OutputBuffer(false);
    const taken: [Uint8Array, string][] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) {
        output.writeText("é€😀 round " + round + " ".repeat(i * 50));
        output.writeFrame(0x2, counting(100 * i + round));
      }
      for (const chunk of output.take()) taken.push([chunk, toHex(chunk)]);
    }
    assert.ok(taken.length >= 40);
    for (const [chunk, bytes] of taken) assert.equal(toHex(chunk), bytes);
    const buffers = new Set(taken.map(([chunk]) => chunk.buffer));
    assert.ok(buffers.size > 1, "the arena was replaced when full");
  });

  test("OutputBuffer sends a large unmasked payload as it is, without copying", () => {
    const output = new OutputBuffer(false);
    const payload = counting(20_000);
    output.writeText("before");
    output.writeFrame(0x2, payload);
    output.writeText("after");
    const chunks = output.take();
    assert.equal(chunks.length, 3);
    assert.equal(toHex(chunks[0]), "81 06 62 65 66 6f 72 65 82 7e 4e 20");
    assert.equal(chunks[1], payload, "the payload itself, not a copy");
    assert.equal(toHex(chunks[2]), "81 05 61 66 74 65 72");
    assert.equal(output.byteLength, 0);
  });

  test("OutputBuffer copies a small payload into the arena", () => {
    const output = new OutputBuffer(false);
    const payload = hex("01 02 03");
    output.writeFrame(0x2, payload);
    payload[0] = 0xff;
    assert.equal(toHex(output.take()[0]), "82 03 01 02 03");
  });

  test("OutputBuffer.writeText() moves the payload when the header it reserved shrinks", () => {
    const texts = [
      "",
      "a",
      "a".repeat(42), // 126 reserved bytes: a 4-byte header reserved, 2 used
      "a".repeat(125),
      "a".repeat(126),
      "é".repeat(62), // 124 bytes
      "é".repeat(63), // 126 bytes
      "€".repeat(41), // 123 bytes
      "€".repeat(42), // 126 bytes
      "😀".repeat(31), // 124 bytes
      "x😀é€".repeat(300),
      "a".repeat(5460), // 4 + 16380 reserved bytes: just within the copy threshold
      "a".repeat(5461), // just over it: encoded first, then written as a frame
      "\ud800 lone surrogate",
    ];
    for (const text of texts) {
      const output = new OutputBuffer(false);
      output.writeText(text);
      const expected = buildFrame(0x1, utf8(text));
      assert.equal(output.byteLength, expected.length, `byteLength for ${text.length} units`);
      assert.equal(toHex(join(...output.take())), toHex(expected), `${text.length} units`);
    }
  });
});

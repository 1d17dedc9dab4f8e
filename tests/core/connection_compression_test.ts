// Connection with a per-message compression extension negotiated (RFC 7692 §6): where
// RSV1 is legal, how compressed messages are handed out and taken back in order, and
// how compressed messages are sent.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Connection } from "../../src/core/connection.ts";
import {
  assertFailed,
  byteByByte,
  clientFrame,
  feed,
  join,
  sentFrames,
  utf8,
} from "../helpers/frames.ts";

/** A masked client frame; `rsv` 4 is RSV1. */
const frame = (opcode: number, payload: Uint8Array | string, fin = true, rsv = 0) =>
  clientFrame(opcode, payload, { fin, rsv });

/** RFC 7692 §7.2.3.1: "Hello" compressed. */
const HELLO_DEFLATED = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);

const compressing = (limits = {}) => new Connection({ compression: true, limits });

describe("RFC 7692 §6 receiving compressed messages (RSV1)", () => {
  test("Connection without compression fails RSV1 with 1002", () => {
    const connection = new Connection();
    const events = connection.receive(frame(0x1, HELLO_DEFLATED, true, 4), 0);
    assertFailed(connection, events, 1002, "Reserved bits set with no extension");
  });

  test("Connection with compression reports an RSV1 message as compressed, unvalidated", () => {
    const connection = compressing();
    // 0xff could never be UTF-8 text: compressed bytes are not checked before decompression.
    const payload = new Uint8Array([0xff, ...HELLO_DEFLATED]);
    const events = connection.receive(frame(0x1, payload, true, 4), 0);
    assert.deepEqual(events, [{ type: "compressed", text: true, data: payload }]);
  });

  test("Connection with compression reports a binary compressed message as not text", () => {
    const connection = compressing();
    const events = connection.receive(frame(0x2, HELLO_DEFLATED, true, 4), 0);
    assert.deepEqual(events, [{ type: "compressed", text: false, data: HELLO_DEFLATED }]);
  });

  test("Connection with compression joins a fragmented compressed message (§7.2.3.1)", () => {
    const connection = compressing();
    const first = frame(0x1, HELLO_DEFLATED.subarray(0, 3), false, 4);
    const last = frame(0x0, HELLO_DEFLATED.subarray(3), true, 0);
    // Fed whole and one byte at a time.
    assert.deepEqual(connection.receive(join(first, last), 0), [
      { type: "compressed", text: true, data: HELLO_DEFLATED },
    ]);
    const split = compressing();
    const events = feed(split, byteByByte(join(first, last)));
    assert.deepEqual(events, [{ type: "compressed", text: true, data: HELLO_DEFLATED }]);
  });

  test("Connection with compression still delivers uncompressed messages", () => {
    const connection = compressing();
    assert.deepEqual(connection.receive(frame(0x1, "plain"), 0), [
      { type: "message", data: "plain" },
    ]);
  });
});

describe("RFC 7692 §6 RSV bits on other frames", () => {
  test("Connection with compression fails RSV1 on a control frame with 1002", () => {
    const connection = compressing();
    const events = connection.receive(frame(0x9, "", true, 4), 0);
    assertFailed(connection, events, 1002, "RSV1 set on a control frame");
  });

  test("Connection with compression fails RSV1 on a continuation frame with 1002", () => {
    for (const firstRsv of [0, 4]) {
      const connection = compressing();
      const events = connection.receive(
        join(frame(0x1, "a", false, firstRsv), frame(0x0, "b", true, 4)),
        0,
      );
      assertFailed(connection, events, 1002, "RSV1 set on a continuation frame");
    }
  });

  test("Connection with compression fails RSV2 and RSV3 with 1002", () => {
    for (const rsv of [2, 1, 6, 5]) {
      const connection = compressing();
      const events = connection.receive(frame(0x1, "a", true, rsv), 0);
      assertFailed(connection, events, 1002, "Reserved bits set with no extension");
    }
  });
});

describe("RFC 7692 §6.2 decompressing, in order", () => {
  test("Connection with compression counts compressed bytes against maxMessageBytes", () => {
    const connection = compressing({ maxMessageBytes: 6 });
    const events = connection.receive(
      join(
        frame(0x1, HELLO_DEFLATED.subarray(0, 4), false, 4),
        frame(0x0, HELLO_DEFLATED.subarray(4), true),
      ),
      0,
    );
    assertFailed(connection, events, 1009, "Message too big");
  });

  test("decompressed() delivers the message, then the frames that waited behind it", () => {
    const connection = compressing();
    const compressed = frame(0x1, HELLO_DEFLATED, true, 4);
    const chunk = join(
      compressed,
      frame(0x1, "after"),
      frame(0x9, "ping"),
    );
    assert.deepEqual(connection.receive(chunk, 0), [
      { type: "compressed", text: true, data: HELLO_DEFLATED },
    ]);
    // More bytes while waiting are kept, in order.
    const later = frame(0x2, new Uint8Array([1, 2]));
    assert.deepEqual(connection.receive(later, 1), []);
    assert.equal(connection.bufferedInputBytes, chunk.length - compressed.length + later.length);
    const events = connection.decompressed(utf8("Hello"), 2);
    assert.deepEqual(events, [
      { type: "message", data: "Hello" },
      { type: "message", data: "after" },
      { type: "ping", data: utf8("ping") },
      { type: "message", data: new Uint8Array([1, 2]) },
    ]);
    assert.equal(connection.bufferedInputBytes, 0);
  });

  test("decompressed() stops again at the next compressed message", () => {
    const connection = compressing();
    const second = new Uint8Array([0xf2, 0x00, 0x11, 0x00, 0x00]);
    const events = connection.receive(
      join(frame(0x1, HELLO_DEFLATED, true, 4), frame(0x2, second, true, 4), frame(0x1, "x")),
      0,
    );
    assert.equal(events.length, 1);
    assert.deepEqual(connection.decompressed(utf8("Hello"), 0), [
      { type: "message", data: "Hello" },
      { type: "compressed", text: false, data: second },
    ]);
    assert.deepEqual(connection.decompressed(new Uint8Array([7]), 0), [
      { type: "message", data: new Uint8Array([7]) },
      { type: "message", data: "x" },
    ]);
  });

  test("decompressed() keeps the peer's Close behind the compressed message", () => {
    const connection = compressing();
    const events = connection.receive(
      join(frame(0x1, HELLO_DEFLATED, true, 4), frame(0x8, new Uint8Array([0x03, 0xe8]))),
      0,
    );
    assert.equal(events.length, 1);
    assert.equal(connection.state, "open");
    assert.deepEqual(connection.decompressed(utf8("Hello"), 0), [
      { type: "message", data: "Hello" },
      { type: "close", info: { code: 1000, reason: "", wasClean: true } },
    ]);
  });

  test("decompressed() fails text that is not UTF-8 with 1007", () => {
    const connection = compressing();
    connection.receive(frame(0x1, HELLO_DEFLATED, true, 4), 0);
    const events = connection.decompressed(new Uint8Array([0x48, 0xc0, 0x80]), 0);
    assertFailed(connection, events, 1007, "Invalid UTF-8 in text message");
  });

  test("decompressed() takes any bytes for a binary message", () => {
    const connection = compressing();
    connection.receive(frame(0x2, HELLO_DEFLATED, true, 4), 0);
    assert.deepEqual(connection.decompressed(new Uint8Array([0xc0, 0x80]), 0), [
      { type: "message", data: new Uint8Array([0xc0, 0x80]) },
    ]);
  });

  test("decompressed() throws when no compressed message is waiting", () => {
    assert.throws(() => compressing().decompressed(new Uint8Array(0), 0), {
      message: "Cannot deliver a decompressed message: none is waiting",
    });
  });

  test("decompressed() does nothing once the connection failed while decompressing", () => {
    const connection = compressing();
    connection.receive(frame(0x1, HELLO_DEFLATED, true, 4), 0);
    const events = connection.fail(1009, "Message too big");
    assertFailed(connection, events, 1009, "Message too big");
    assert.deepEqual(connection.decompressed(utf8("Hello"), 0), []);
    assert.deepEqual(connection.receive(frame(0x1, "late"), 0), []);
  });
});

describe("RFC 7692 §6.1 sending compressed messages", () => {
  test("sendCompressed() sends one frame with RSV1 set, as RFC 7692 §7.2.3.1 shows", () => {
    const connection = compressing();
    connection.sendCompressed(HELLO_DEFLATED, true);
    assert.deepEqual(
      connection.takeOutput(),
      [new Uint8Array([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])],
    );
    connection.sendCompressed(HELLO_DEFLATED, false);
    assert.deepEqual(sentFrames(connection).map((sent) => [sent.opcode, sent.rsv, sent.fin]), [
      [0x2, 4, true],
    ]);
  });

  test("sendCompressed() throws without compression or once closing", () => {
    assert.throws(() => new Connection().sendCompressed(HELLO_DEFLATED, true), {
      message: "Cannot send a compressed message: no compression was negotiated",
    });
    const connection = compressing();
    connection.close(1000, "", 0);
    assert.throws(() => connection.sendCompressed(HELLO_DEFLATED, true), {
      message: "Cannot send a message: the connection is closing",
    });
  });
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Connection,
  type ConnectionEvent,
  type ConnectionOptions,
} from "../../src/core/connection.ts";
import type { Limits } from "../../src/core/limits.ts";
import {
  assertFailed,
  byteByByte,
  clientFrame,
  decodeClose,
  feed,
  hex,
  join,
  KEY,
  parseFrames,
  randomBytes,
  randomChunks,
  seededRandom,
  sentClose,
  sentFrames,
  toHex,
  utf8,
} from "../helpers/frames.ts";

/** A server-role connection at time 0 with some limits changed. */
function server(limits: Partial<Limits> = {}, options: ConnectionOptions = {}): Connection {
  return new Connection({ ...options, limits });
}

/** Feeds `bytes` to a fresh server connection and asserts it fails with code and reason. */
function assertRejected(
  bytes: Uint8Array,
  code: number,
  reason: string,
  options: ConnectionOptions = {},
): void {
  const connection = new Connection(options);
  assertFailed(connection, connection.receive(bytes, 0), code, reason);
}

const message = (data: string | Uint8Array): ConnectionEvent => ({ type: "message", data });
const EMPTY = new Uint8Array(0);

/** `frame` followed by unsolicited 125-byte pongs up to `size` bytes, in one new buffer. */
function paddedWithPongs(frame: Uint8Array, size: number): Uint8Array {
  const pong = clientFrame(0xa, new Uint8Array(125));
  const parts = [frame];
  for (let length = frame.length; length + pong.length <= size; length += pong.length) {
    parts.push(pong);
  }
  return join(...parts);
}

/** A long stream of mixed client frames, ending with a Close. */
function mixedStream(seed: number): Uint8Array {
  const random = seededRandom(seed);
  const text = "Hello, κόσμε! € 😀 ";
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    switch (random(6)) {
      case 0:
        parts.push(clientFrame(0x1, text.repeat(1 + random(20))));
        break;
      case 1:
        parts.push(
          clientFrame(0x2, randomBytes(random, [0, 1, 125, 126, 1000, 70_000][random(6)])),
        );
        break;
      case 2: {
        // A text message cut at random bytes, so characters straddle fragments.
        const bytes = utf8(text.repeat(1 + random(10)));
        const cut = random(bytes.length);
        parts.push(clientFrame(0x1, bytes.subarray(0, cut), { fin: false }));
        parts.push(clientFrame(0x9, randomBytes(random, random(126))));
        parts.push(clientFrame(0x0, bytes.subarray(cut)));
        break;
      }
      case 3:
        parts.push(clientFrame(0x2, randomBytes(random, 300), { fin: false }));
        parts.push(clientFrame(0x0, EMPTY, { fin: false }));
        parts.push(clientFrame(0xa, utf8("pong")));
        parts.push(clientFrame(0x0, randomBytes(random, 300)));
        break;
      case 4:
        parts.push(clientFrame(0x9, randomBytes(random, random(126))));
        break;
      default:
        parts.push(clientFrame(0x1, EMPTY));
    }
  }
  parts.push(clientFrame(0x8, join(hex("0f a0"), utf8("done"))));
  return join(...parts);
}

/** Moves everything `from` queued into `to`, in random chunks, and returns the events. */
function deliver(
  from: Connection,
  to: Connection,
  random: (bound: number) => number,
): ConnectionEvent[] {
  const bytes = join(...from.takeOutput());
  return feed(to, randomChunks(bytes, random, 1 + random(100_000)));
}

describe("RFC 6455 §5.2 base framing: RSV bits, opcodes, lengths, stopping at a violation", () => {
  test("Connection fails a frame with any RSV bit set with 1002", () => {
    for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
      assertRejected(clientFrame(0x1, "a", { rsv }), 1002, "Reserved bits set with no extension");
    }
    assertRejected(clientFrame(0x9, "", { rsv: 2 }), 1002, "Reserved bits set with no extension");
  });

  test("Connection fails reserved opcodes 3-7 and 0xB-0xF with 1002", () => {
    for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      assertRejected(clientFrame(opcode, "x"), 1002, `Reserved opcode ${opcode}`);
    }
  });

  test("Connection fails a 64-bit length with the top bit set with 1002", () => {
    assertRejected(
      join(hex("82 ff 80 00 00 00 00 00 00 05"), KEY),
      1002,
      "Frame length has its most significant bit set",
    );
  });

  test("Connection fails a length not in its minimal form with 1002", () => {
    // 126 encoding a length below 126, and 127 encoding one below 65536.
    for (
      const header of [
        "82 fe 00 05",
        "82 fe 00 7d",
        "82 ff 00 00 00 00 00 00 00 05",
        "82 ff 00 00 00 00 00 00 ff ff",
      ]
    ) {
      assertRejected(join(hex(header), KEY), 1002, "Frame length not in its minimal form");
    }
  });

  test("Connection stops reading at a violation: later frames in the chunk are ignored", () => {
    const connection = server();
    const events = connection.receive(
      join(clientFrame(0x1, "first"), clientFrame(0x0, "bad"), clientFrame(0x1, "after")),
      0,
    );
    assert.deepEqual(events[0], message("first"));
    assertFailed(connection, events, 1002, "Continuation frame with no message");
    assert.equal(events.length, 2);
    assert.deepEqual(connection.receive(clientFrame(0x1, "later"), 0), []);
    assert.deepEqual(connection.takeOutput(), []);
  });
});

describe("RFC 6455 §5.3 client-to-server masking: the wrong mask bit fails the connection", () => {
  test("Connection on a server fails an unmasked client frame with 1002", () => {
    assertRejected(hex("81 05 48 65 6c 6c 6f"), 1002, "Client frames must be masked");
  });

  test("Connection on a client fails a masked server frame with 1002", () => {
    const connection = new Connection({ role: "client" });
    const events = connection.receive(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 0);
    assert.deepEqual(events, [{
      type: "close",
      info: { code: 1002, reason: "Server frames must not be masked", wasClean: false },
    }]);
    // A client masks its own frames: parse its Close as a server would.
    const frames = parseFrames(connection.takeOutput(), "server");
    assert.equal(frames.length, 1);
    assert.equal(frames[0].masked, true);
    assert.deepEqual(decodeClose(frames[0].payload), {
      code: 1002,
      reason: "Server frames must not be masked",
    });
  });
});

describe("RFC 6455 §5.4 fragmentation", () => {
  test("Connection reassembles a fragmented message with a ping between fragments", () => {
    const connection = server();
    const events = connection.receive(
      join(
        clientFrame(0x1, "Hel", { fin: false }),
        clientFrame(0x9, "ping!"),
        clientFrame(0x0, "l", { fin: false }),
        clientFrame(0x0, "o"),
      ),
      0,
    );
    assert.deepEqual(events, [{ type: "ping", data: utf8("ping!") }, message("Hello")]);
    assert.equal(toHex(join(...connection.takeOutput())), "8a 05 70 69 6e 67 21");
  });

  test("Connection reassembles a fragmented binary message with empty fragments", () => {
    const connection = server();
    const events = connection.receive(
      join(
        clientFrame(0x2, EMPTY, { fin: false }),
        clientFrame(0x0, hex("01 02"), { fin: false }),
        clientFrame(0x0, EMPTY, { fin: false }),
        clientFrame(0x0, hex("03")),
      ),
      0,
    );
    assert.deepEqual(events, [message(hex("01 02 03"))]);
  });

  test("Connection fails a continuation frame with no message to continue with 1002", () => {
    assertRejected(clientFrame(0x0, "lo"), 1002, "Continuation frame with no message");
  });

  test("Connection fails a new data frame inside a fragmented message with 1002", () => {
    for (const opcode of [0x1, 0x2]) {
      assertRejected(
        join(clientFrame(0x1, "Hel", { fin: false }), clientFrame(opcode, "lo")),
        1002,
        "New data frame inside a fragmented message",
      );
    }
  });
});

describe("RFC 6455 §5.5 control frames: ping and pong", () => {
  test("Connection answers a ping with a pong carrying its payload, and reports pongs", () => {
    const connection = server();
    const events = connection.receive(join(clientFrame(0x9, "abc"), clientFrame(0xa, "xyz")), 0);
    assert.deepEqual(events, [
      { type: "ping", data: utf8("abc") },
      { type: "pong", data: utf8("xyz") },
    ]);
    assert.equal(toHex(join(...connection.takeOutput())), "8a 03 61 62 63");
  });

  test("Connection answers a 125-byte ping with a 125-byte pong", () => {
    const connection = server();
    const payload = randomBytes(seededRandom(1), 125);
    connection.receive(clientFrame(0x9, payload), 0);
    const frames = sentFrames(connection);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, 0xa);
    assert.deepEqual(frames[0].payload, payload);
  });

  test("Connection fails a fragmented ping with 1002", () => {
    assertRejected(clientFrame(0x9, "a", { fin: false }), 1002, "Fragmented control frame");
  });

  test("Connection fails a 126-byte ping with 1002", () => {
    assertRejected(clientFrame(0x9, new Uint8Array(126)), 1002, "Control frame too long");
  });
});

describe("RFC 6455 §5.5.1, §7.1 closing: the Close frame, the handshake, failing, 1006", () => {
  test("Connection echoes a peer's Close with a valid code and ends clean", () => {
    const connection = server();
    const events = connection.receive(clientFrame(0x8, join(hex("03 e8"), utf8("bye"))), 0);
    assert.deepEqual(events, [{
      type: "close",
      info: { code: 1000, reason: "bye", wasClean: true },
    }]);
    assert.equal(connection.state, "closed");
    assert.equal(toHex(join(...connection.takeOutput())), "88 05 03 e8 62 79 65");
    assert.equal(connection.nextDeadline(), Infinity);
  });

  test("Connection echoes every valid close code", () => {
    for (
      const code of [
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
        4999,
      ]
    ) {
      const connection = server();
      const events = connection.receive(
        clientFrame(0x8, hex(code.toString(16).padStart(4, "0"))),
        0,
      );
      assert.deepEqual(events, [{ type: "close", info: { code, reason: "", wasClean: true } }]);
      assert.deepEqual(sentClose(connection), { code, reason: "" });
    }
  });

  test("Connection echoes an empty Close with an empty Close and reports 1005", () => {
    const connection = server();
    const events = connection.receive(clientFrame(0x8, EMPTY), 0);
    assert.deepEqual(events, [{ type: "close", info: { code: 1005, reason: "", wasClean: true } }]);
    assert.equal(toHex(join(...connection.takeOutput())), "88 00");
  });

  test("Connection answers a Close with an invalid code with a 1002 Close frame", () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
      const connection = server();
      const payload = hex(code.toString(16).padStart(4, "0"));
      assertFailed(
        connection,
        connection.receive(clientFrame(0x8, payload), 0),
        1002,
        `Invalid close code ${code}`,
      );
    }
  });

  test("Connection answers a 1-byte Close payload with 1002", () => {
    assertRejected(clientFrame(0x8, hex("03")), 1002, "Close frame with a 1-byte payload");
  });

  test("Connection answers a Close reason that is not UTF-8 with 1007", () => {
    assertRejected(clientFrame(0x8, hex("03 e8 ff")), 1007, "Close reason is not valid UTF-8");
  });

  test("Connection.close() sends a Close frame and completes the handshake on the peer's", () => {
    const connection = server();
    connection.close(1000, "done", 0);
    assert.equal(connection.state, "closing");
    assert.equal(toHex(join(...connection.takeOutput())), "88 06 03 e8 64 6f 6e 65");
    const events = connection.receive(clientFrame(0x8, hex("03 e8")), 5);
    assert.deepEqual(events, [{ type: "close", info: { code: 1000, reason: "", wasClean: true } }]);
    assert.equal(connection.state, "closed");
    assert.deepEqual(connection.takeOutput(), [], "the peer's Close is not echoed again");
  });

  test("Connection.close() with 1005 sends an empty Close frame", () => {
    const connection = server();
    connection.close(1005, "", 0);
    assert.equal(toHex(join(...connection.takeOutput())), "88 00");
  });

  test("Connection.close() defaults to 1000 with no reason", () => {
    const connection = server();
    connection.close(undefined, undefined, 0);
    assert.equal(toHex(join(...connection.takeOutput())), "88 02 03 e8");
  });

  test("Connection.close() a second time is a no-op", () => {
    const connection = server();
    connection.close(1000, "", 0);
    connection.takeOutput();
    connection.close(1001, "again", 10);
    assert.deepEqual(connection.takeOutput(), []);
    assert.equal(connection.nextDeadline(), 10_000, "the first close's deadline stands");
  });

  test("Connection.close() checks its arguments", () => {
    const connection = server();
    assert.throws(() => connection.close(1006, "", 0), {
      name: "RangeError",
      message: "Invalid close code 1006: use 1000-1003, 1007-1014 or 3000-4999",
    });
    assert.throws(() => connection.close(1000, "x".repeat(124), 0), {
      name: "RangeError",
      message: "Close reason is 124 bytes; at most 123 are allowed",
    });
    assert.throws(() => connection.close(1005, "why", 0), {
      name: "RangeError",
      message: "A close with no code cannot carry a reason",
    });
    assert.throws(() => connection.close(1000.5, "", 0), { name: "TypeError" });
    assert.equal(connection.state, "open");
    assert.deepEqual(connection.takeOutput(), []);
  });

  test("Connection keeps delivering messages after close() until the peer's Close", () => {
    const connection = server();
    connection.close(1000, "", 0);
    connection.takeOutput();
    const events = connection.receive(
      join(clientFrame(0x1, "late"), clientFrame(0x9, "p"), clientFrame(0x8, hex("03 e8"))),
      0,
    );
    assert.deepEqual(events, [
      message("late"),
      { type: "ping", data: utf8("p") },
      { type: "close", info: { code: 1000, reason: "", wasClean: true } },
    ]);
    assert.deepEqual(connection.takeOutput(), [], "no pong after our Close frame");
  });

  test("Connection ignores data after the close", () => {
    const connection = server();
    const events = connection.receive(
      join(clientFrame(0x8, hex("03 e8")), clientFrame(0x1, "after"), clientFrame(0x9, "ping")),
      0,
    );
    assert.deepEqual(events, [{ type: "close", info: { code: 1000, reason: "", wasClean: true } }]);
    assert.equal(toHex(join(...connection.takeOutput())), "88 02 03 e8");
    assert.deepEqual(connection.receive(clientFrame(0x1, "later"), 0), []);
    assert.deepEqual(connection.receive(hex("ff ff ff"), 0), []);
    assert.deepEqual(connection.receiveEof(), []);
    assert.deepEqual(connection.tick(1e9), []);
    assert.deepEqual(connection.takeOutput(), []);
    assert.deepEqual(connection.closeInfo, { code: 1000, reason: "", wasClean: true });
  });

  test("Connection.receiveEof() before the close handshake ends with 1006, not clean", () => {
    const connection = server();
    connection.receive(clientFrame(0x1, "par", { fin: false }), 0);
    assert.deepEqual(connection.receiveEof(), [{
      type: "close",
      info: { code: 1006, reason: "", wasClean: false },
    }]);
    assert.equal(connection.state, "closed");
    assert.deepEqual(connection.takeOutput(), [], "1006 is never sent");
    assert.equal(connection.bufferedInputBytes, 0);
  });

  test("Connection.receiveEof() while closing ends with 1006, not clean", () => {
    const connection = server();
    connection.close(1000, "", 0);
    connection.takeOutput();
    assert.deepEqual(connection.receiveEof(), [{
      type: "close",
      info: { code: 1006, reason: "", wasClean: false },
    }]);
    assert.deepEqual(connection.takeOutput(), []);
  });

  test("Connection.fail() sends its code and ends at once, not clean", () => {
    const connection = server();
    const events = connection.fail(1008, "Policy");
    assertFailed(connection, events, 1008, "Policy");
    assert.deepEqual(connection.fail(1011, "again"), []);
    assert.deepEqual(connection.takeOutput(), []);
  });

  test("Connection.fail() after close() sends no second Close frame", () => {
    const connection = server();
    connection.close(1000, "", 0);
    connection.takeOutput();
    assert.deepEqual(connection.fail(1011, "Internal error"), [{
      type: "close",
      info: { code: 1011, reason: "Internal error", wasClean: false },
    }]);
    assert.deepEqual(connection.takeOutput(), []);
  });
});

describe("RFC 6455 §5.5.2, §5.5.3 heartbeat, idle and close timeouts", () => {
  test("Connection starts its heartbeat from the time it is given", () => {
    assert.equal(new Connection({ now: 1234 }).nextDeadline(), 1234 + 20_000);
    assert.equal(new Connection().nextDeadline(), 20_000);
    assert.equal(server({ heartbeatIntervalMs: 0 }).nextDeadline(), Infinity);
  });

  test("Connection.tick() ends a close handshake the peer never answers with 1006", () => {
    const connection = server({ closeTimeoutMs: 3000 });
    connection.close(1000, "", 100);
    connection.takeOutput();
    assert.equal(connection.nextDeadline(), 3100);
    assert.deepEqual(connection.tick(3099), []);
    assert.deepEqual(connection.tick(3100), [{
      type: "close",
      info: { code: 1006, reason: "Close handshake timed out", wasClean: false },
    }]);
    assert.deepEqual(connection.takeOutput(), []);
    assert.equal(connection.nextDeadline(), Infinity);
  });

  test("Connection.tick() at the heartbeat interval queues a ping", () => {
    const connection = server({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 }, { now: 50 });
    assert.equal(connection.nextDeadline(), 1050);
    assert.deepEqual(connection.tick(1049), []);
    assert.deepEqual(connection.takeOutput(), []);
    assert.deepEqual(connection.tick(1050), []);
    assert.equal(toHex(join(...connection.takeOutput())), "89 00");
    assert.equal(connection.nextDeadline(), 1550);
  });

  test("Connection.tick() closes with 1001 when a heartbeat ping goes unanswered", () => {
    const connection = server({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    connection.tick(1000);
    connection.takeOutput();
    assert.deepEqual(connection.tick(1499), []);
    const events = connection.tick(1500);
    assertFailed(connection, events, 1001, "Heartbeat timeout");
  });

  test("Connection resets the heartbeat when the peer answers", () => {
    const connection = server({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    connection.tick(1000);
    connection.takeOutput();
    assert.deepEqual(connection.receive(clientFrame(0xa, EMPTY), 1200), [{
      type: "pong",
      data: EMPTY,
    }]);
    assert.equal(connection.nextDeadline(), 2200);
    assert.deepEqual(connection.tick(1500), []);
    assert.equal(connection.state, "open");
    connection.tick(2200);
    assert.equal(toHex(join(...connection.takeOutput())), "89 00");
  });

  test("Connection counts any frame from the peer as an answer to the heartbeat", () => {
    const connection = server({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    connection.tick(1000);
    connection.receive(clientFrame(0x1, "still here"), 1400);
    assert.equal(connection.nextDeadline(), 2400);
    assert.deepEqual(connection.tick(1500), []);
  });

  test("Connection.tick() closes an idle connection with 1001 and waits for the peer's Close", () => {
    const connection = server({ idleTimeoutMs: 5000, heartbeatIntervalMs: 0 });
    connection.receive(clientFrame(0x1, "hi"), 1000);
    assert.equal(connection.nextDeadline(), 6000);
    connection.receive(clientFrame(0x9, EMPTY), 5000);
    connection.takeOutput();
    assert.equal(connection.nextDeadline(), 6000, "a ping is not a message");
    assert.deepEqual(connection.tick(5999), []);
    assert.deepEqual(connection.tick(6000), []);
    assert.equal(connection.state, "closing");
    assert.deepEqual(sentClose(connection), { code: 1001, reason: "Idle timeout" });
    assert.equal(connection.nextDeadline(), 16_000, "the close timeout runs from the idle close");
    const events = connection.receive(clientFrame(0x8, hex("03 e9")), 6100);
    assert.deepEqual(events, [{ type: "close", info: { code: 1001, reason: "", wasClean: true } }]);
  });

  test("Connection with no close timeout has no deadline once closing", () => {
    const connection = server({ idleTimeoutMs: 1000, heartbeatIntervalMs: 500, closeTimeoutMs: 0 });
    connection.tick(1000);
    assert.equal(connection.state, "closing");
    assert.deepEqual(sentClose(connection), { code: 1001, reason: "Idle timeout" });
    assert.equal(connection.nextDeadline(), Infinity);
    assert.deepEqual(connection.tick(1500), []);
    assert.deepEqual(connection.takeOutput(), [], "no heartbeat ping after our Close frame");
  });

  test("Connection sends no heartbeat ping after its Close frame", () => {
    const connection = server({ heartbeatIntervalMs: 1000, closeTimeoutMs: 5000 });
    connection.close(1000, "", 500);
    connection.takeOutput();
    assert.equal(connection.nextDeadline(), 5500);
    assert.deepEqual(connection.tick(2000), []);
    assert.deepEqual(connection.takeOutput(), []);
  });
});

describe("RFC 6455 §5.6, §8.1 data frames: text must be UTF-8, binary is anything", () => {
  test("Connection delivers binary and empty messages", () => {
    const connection = server();
    const events = connection.receive(
      join(clientFrame(0x2, hex("00 ff 10")), clientFrame(0x2, EMPTY), clientFrame(0x1, EMPTY)),
      0,
    );
    assert.deepEqual(events, [message(hex("00 ff 10")), message(EMPTY), message("")]);
  });

  test("Connection fails a text message that is not UTF-8 with 1007", () => {
    for (const bad of ["ff", "c0 80", "ed a0 80", "f4 90 80 80", "68 69 e2 82"]) {
      assertRejected(clientFrame(0x1, hex(bad)), 1007, "Invalid UTF-8 in text message");
    }
  });

  test("Connection accepts invalid UTF-8 in a binary message", () => {
    const connection = server();
    assert.deepEqual(connection.receive(clientFrame(0x2, hex("ff c0 80")), 0), [
      message(hex("ff c0 80")),
    ]);
  });

  test("Connection fails a fragmented text message at its first invalid fragment, before the last arrives", () => {
    const connection = server();
    const events = connection.receive(clientFrame(0x1, hex("68 69 ed a0 80"), { fin: false }), 0);
    assertFailed(connection, events, 1007, "Invalid UTF-8 in text message");
  });

  test("Connection fails a fragmented text message as soon as a fragment begins impossibly", () => {
    const connection = server();
    assert.deepEqual(connection.receive(clientFrame(0x1, hex("68 f0"), { fin: false }), 0), []);
    const events = connection.receive(clientFrame(0x0, hex("80 80 80"), { fin: false }), 0);
    assertFailed(connection, events, 1007, "Invalid UTF-8 in text message");
  });

  test("Connection fails a single-frame text message split in chunks at its first invalid chunk", () => {
    const connection = server();
    const frame = clientFrame(0x1, join(utf8("valid start "), hex("c0 80"), utf8(" and more")));
    // The frame's header and the bytes up to the overlong arrive; the rest never does.
    const events = connection.receive(frame.slice(0, 6 + 14), 0);
    assertFailed(connection, events, 1007, "Invalid UTF-8 in text message");
  });

  test("Connection accepts a multi-byte character split across two fragments", () => {
    for (const char of ["é", "€", "😀"]) {
      const bytes = utf8(`a${char}b`);
      for (let cut = 1; cut < bytes.length; cut++) {
        const connection = server();
        const events = connection.receive(
          join(
            clientFrame(0x1, bytes.subarray(0, cut), { fin: false }),
            clientFrame(0x0, bytes.subarray(cut)),
          ),
          0,
        );
        assert.deepEqual(events, [message(`a${char}b`)], `${char} cut at ${cut}`);
      }
    }
  });

  test("Connection fails a fragmented text message that ends inside a character with 1007", () => {
    const connection = server();
    const events = connection.receive(
      join(clientFrame(0x1, "ok", { fin: false }), clientFrame(0x0, hex("e2 82"))),
      0,
    );
    assertFailed(connection, events, 1007, "Invalid UTF-8 in text message");
  });

  test("Connection validates each text message afresh", () => {
    const connection = server();
    const events = connection.receive(
      join(
        clientFrame(0x1, utf8("€"), { fin: false }),
        clientFrame(0x0, EMPTY),
        clientFrame(0x1, hex("e2 82 ac"), { fin: false }),
        clientFrame(0x0, hex("21")),
      ),
      0,
    );
    assert.deepEqual(events, [message("€"), message("€!")]);
  });
});

describe("RFC 6455 §5.7 the RFC's example frames, received", () => {
  test("Connection delivers RFC 6455 §5.7's masked Hello as a text message", () => {
    const connection = server();
    const events = connection.receive(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 0);
    assert.deepEqual(events, [message("Hello")]);
    assert.deepEqual(connection.takeOutput(), []);
    assert.equal(connection.state, "open");
  });
});

describe("RFC 6455 §10.4 implementation-specific limits: message and frame sizes", () => {
  test("Connection resolves its limits once and rejects bad ones with a RangeError", () => {
    const connection = server({ maxMessageBytes: 2048 });
    assert.equal(connection.limits.maxMessageBytes, 2048);
    assert.equal(connection.limits.maxFrameBytes, 2048);
    assert.ok(Object.isFrozen(connection.limits));
    assert.throws(() => server({ maxFrameBytes: 0 }), {
      name: "RangeError",
      message: 'Limit "maxFrameBytes" must be at least 1, got 0',
    });
  });

  test("Connection fails a message over maxMessageBytes with 1009 from the header alone", () => {
    const connection = server({ maxMessageBytes: 1000 });
    assert.equal(connection.limits.maxFrameBytes, 1000);
    const whole = clientFrame(0x2, new Uint8Array(1001));
    const header = whole.subarray(0, 8);
    assert.equal(toHex(header), "82 fe 03 e9 37 fa 21 3d");
    assertFailed(connection, connection.receive(header.slice(), 0), 1009, "Message too big");
  });

  test("Connection fails a fragmented message over maxMessageBytes at the fragment's header", () => {
    const connection = server({ maxMessageBytes: 1000, maxFrameBytes: 800 });
    const first = connection.receive(clientFrame(0x1, "a".repeat(600), { fin: false }), 0);
    assert.deepEqual(first, []);
    assert.equal(connection.bufferedInputBytes, 600);
    // Only the header of the second fragment (401 bytes, one too many) arrives.
    const second = clientFrame(0x0, "a".repeat(401)).subarray(0, 8);
    assertFailed(connection, connection.receive(second.slice(), 0), 1009, "Message too big");
    assert.equal(connection.bufferedInputBytes, 0, "the partial message is dropped");
  });

  test("Connection fails a single frame over maxMessageBytes (and maxFrameBytes) with 1009", () => {
    const connection = server({ maxMessageBytes: 1000 });
    const header = clientFrame(0x2, new Uint8Array(1001)).subarray(0, 8);
    assertFailed(connection, connection.receive(header.slice(), 0), 1009, "Message too big");
  });

  test("Connection accepts a message of exactly maxMessageBytes, in one frame or several", () => {
    const connection = server({ maxMessageBytes: 1000 });
    assert.deepEqual(connection.receive(clientFrame(0x2, new Uint8Array(1000)), 0), [
      message(new Uint8Array(1000)),
    ]);
    const events = connection.receive(
      join(
        clientFrame(0x1, "a".repeat(500), { fin: false }),
        clientFrame(0x9, "ping"),
        clientFrame(0x0, "a".repeat(500)),
      ),
      0,
    );
    assert.deepEqual(events.at(-1), message("a".repeat(1000)));
    assert.equal(connection.state, "open");
  });

  test("Connection fails a frame over maxFrameBytes with 1009", () => {
    const connection = server({ maxMessageBytes: 1000, maxFrameBytes: 100 });
    assert.deepEqual(
      connection.receive(clientFrame(0x2, new Uint8Array(100), { fin: false }), 0),
      [],
    );
    const header = clientFrame(0x0, new Uint8Array(101)).subarray(0, 8);
    assertFailed(connection, connection.receive(header.slice(), 0), 1009, "Frame too big");
  });
});

describe("Any chunking, both roles: whole or byte by byte, client and server in pairs", () => {
  test("Connection gives the same events and output for a stream fed whole or one byte at a time", () => {
    for (const seed of [1, 2, 3]) {
      const stream = mixedStream(seed);
      const wholeConnection = server();
      const whole = feed(wholeConnection, [stream.slice()]);
      const wholeOutput = toHex(join(...wholeConnection.takeOutput()));
      assert.deepEqual(whole.at(-1), {
        type: "close",
        info: { code: 4000, reason: "done", wasClean: true },
      });
      assert.ok(whole.length > 40, `${whole.length} events`);

      const random = seededRandom(seed);
      for (const chunks of [byteByByte(stream), randomChunks(stream, random, 700)]) {
        const connection = server();
        const events = feed(connection, chunks);
        assert.deepEqual(events, whole, `seed ${seed}, ${chunks.length} chunks`);
        assert.equal(toHex(join(...connection.takeOutput())), wholeOutput);
      }
    }
  });

  test("Connection gives the same failure for a bad stream fed whole or one byte at a time", () => {
    const stream = join(
      clientFrame(0x1, "ok"),
      clientFrame(0x1, utf8("fine € "), { fin: false }),
      clientFrame(0x9, "x"),
      clientFrame(0x0, hex("f0 9f 98"), { fin: false }),
      clientFrame(0x0, hex("28 80 80")),
      clientFrame(0x1, "never"),
    );
    const expected = feed(server(), [stream.slice()]);
    assert.deepEqual(expected.at(-1), {
      type: "close",
      info: { code: 1007, reason: "Invalid UTF-8 in text message", wasClean: false },
    });
    assert.deepEqual(feed(server(), byteByByte(stream)), expected);
  });

  test("Connection round-trips messages from a client connection to a server connection", () => {
    const random = seededRandom(0xc11e);
    const client = new Connection({ role: "client" });
    const host = new Connection({ role: "server" });
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 65537, 3 * 1024 * 1024];
    for (const size of sizes) {
      const binary = randomBytes(random, size);
      // `size` UTF-16 code units of 1- to 4-byte characters, no surrogate pair cut.
      const text = "é€😀x".repeat(Math.floor(size / 5)) + "a".repeat(size % 5);
      client.send(binary);
      client.send(text);
      const events = deliver(client, host, random);
      assert.equal(events.length, 2, `size ${size}`);
      assert.equal(events[0].type, "message");
      const data = (events[0] as { data: Uint8Array }).data;
      assert.ok(
        data.length === size && data.every((byte, i) => byte === binary[i]),
        `binary ${size}`,
      );
      assert.deepEqual(events[1], message(text), `text ${size}`);
    }
  });

  test("Connection round-trips messages from a server connection to a client connection", () => {
    const random = seededRandom(0x5e7);
    const client = new Connection({ role: "client" });
    const host = new Connection({ role: "server" });
    for (const size of [0, 125, 126, 65536, 1024 * 1024 + 3]) {
      const binary = randomBytes(random, size);
      host.send(binary);
      host.send("κόσμε".repeat(size % 100));
      host.ping(utf8("are you there"));
      const events = deliver(host, client, random);
      assert.deepEqual(events, [
        message(binary),
        message("κόσμε".repeat(size % 100)),
        { type: "ping", data: utf8("are you there") },
      ]);
      // The client's pong comes back masked, and the server reads it.
      assert.deepEqual(deliver(client, host, random), [{
        type: "pong",
        data: utf8("are you there"),
      }]);
    }
  });

  test("Connection pair completes a close handshake started by the client", () => {
    const random = seededRandom(42);
    const client = new Connection({ role: "client" });
    const host = new Connection({ role: "server" });
    client.close(4001, "bye ✓", 0);
    assert.deepEqual(deliver(client, host, random), [{
      type: "close",
      info: { code: 4001, reason: "bye ✓", wasClean: true },
    }]);
    assert.deepEqual(deliver(host, client, random), [{
      type: "close",
      info: { code: 4001, reason: "bye ✓", wasClean: true },
    }]);
    assert.equal(client.state, "closed");
    assert.equal(host.state, "closed");
  });

  test("Connection pair: a server failure reaches the client as the same close code", () => {
    const random = seededRandom(43);
    const client = new Connection({ role: "client" });
    const host = new Connection({ role: "server", limits: { maxMessageBytes: 10 } });
    client.send("this is longer than ten bytes");
    assert.deepEqual(deliver(client, host, random).at(-1), {
      type: "close",
      info: { code: 1009, reason: "Message too big", wasClean: false },
    });
    assert.deepEqual(deliver(host, client, random), [{
      type: "close",
      info: { code: 1009, reason: "Message too big", wasClean: true },
    }]);
  });
});

describe("Sending: messages, pings, misuse (not an RFC rule)", () => {
  test("Connection.send() and ping() after close() throw an Error saying why", () => {
    const connection = server();
    connection.close(1000, "", 0);
    assert.throws(() => connection.send("x"), {
      name: "Error",
      message: "Cannot send a message: the connection is closing",
    });
    assert.throws(() => connection.ping(), {
      name: "Error",
      message: "Cannot send a ping: the connection is closing",
    });
    connection.receive(clientFrame(0x8, hex("03 e8")), 0);
    assert.throws(() => connection.send(hex("01")), {
      name: "Error",
      message: "Cannot send a message: the connection is closed",
    });
    assert.throws(() => connection.ping(hex("01")), {
      name: "Error",
      message: "Cannot send a ping: the connection is closed",
    });
  });

  test("Connection.ping() over 125 bytes throws a RangeError", () => {
    const connection = server();
    assert.throws(() => connection.ping(new Uint8Array(126)), {
      name: "RangeError",
      message: "Ping payload is 126 bytes; at most 125 are allowed",
    });
    assert.deepEqual(connection.takeOutput(), []);
    connection.ping(new Uint8Array(125));
    assert.equal(sentFrames(connection)[0].length, 125);
  });

  test("Connection.send() queues text and binary frames; outputBytes counts them", () => {
    const connection = server();
    connection.send("Hello");
    connection.send(hex("01 02"));
    connection.ping(utf8("p"));
    assert.equal(connection.outputBytes, 7 + 4 + 3);
    assert.equal(
      toHex(join(...connection.takeOutput())),
      "81 05 48 65 6c 6c 6f 82 02 01 02 89 01 70",
    );
    assert.equal(connection.outputBytes, 0);
  });
});

describe("Memory held for received bytes (not an RFC rule)", () => {
  test("Connection.bufferedInputBytes counts a partial frame and a partial message", () => {
    const connection = server();
    const frame = clientFrame(0x1, "Hello", { fin: false });
    connection.receive(frame.slice(0, 8), 0);
    assert.equal(connection.bufferedInputBytes, 8);
    connection.receive(frame.slice(8), 0);
    assert.equal(connection.bufferedInputBytes, 5);
    connection.receive(clientFrame(0x0, "!"), 0);
    assert.equal(connection.bufferedInputBytes, 0);
  });

  test("Connection keeps no read alive for a one-byte fragment among pongs", () => {
    const connection = server();
    const chunks: Uint8Array[] = [];
    let events = connection.receive(clientFrame(0x2, new Uint8Array([0]), { fin: false }), 0);
    // 100,000 one-byte fragments, 100 per 32 KiB read: the rest of each read is pongs.
    for (let read = 0; read < 1000; read++) {
      const fragments = join(
        ...Array.from({ length: 100 }, () => clientFrame(0x0, new Uint8Array([1]), { fin: false })),
      );
      const chunk = paddedWithPongs(fragments, 32 * 1024);
      chunks.push(chunk);
      events = connection.receive(chunk, 0);
      assert.ok(events.every((event) => event.type === "pong"));
    }
    assert.equal(connection.bufferedInputBytes, 100_001);
    const retained = connection.retainedInputBytes;
    assert.ok(
      retained <= 2 * 100_001 + 64,
      `${retained} bytes held for 100,001 counted (the reads were ${1000 * 32 * 1024})`,
    );
    const last = connection.receive(clientFrame(0x0, new Uint8Array([2])), 0);
    assert.equal(last.length, 1);
    const data = (last[0] as { data: Uint8Array }).data;
    assert.equal(data.length, 100_002);
    assert.deepEqual([data[0], data[1], data[100_000], data[100_001]], [0, 1, 1, 2]);
    assert.ok(chunks.every((chunk) => chunk.buffer !== data.buffer), "a copy, not a read");
    assert.equal(connection.retainedInputBytes, 0);
  });

  test("Connection holds nothing for a message of a million empty fragments", () => {
    const connection = server();
    connection.receive(clientFrame(0x1, "", { fin: false }), 0);
    const empty = clientFrame(0x0, "", { fin: false });
    const chunk = join(...Array.from({ length: 10_000 }, () => empty));
    for (let read = 0; read < 100; read++) {
      assert.deepEqual(connection.receive(chunk.slice(), 0), []);
      assert.equal(connection.retainedInputBytes, 0);
      assert.equal(connection.bufferedInputBytes, 0);
    }
    assert.deepEqual(connection.receive(clientFrame(0x0, "end"), 0), [message("end")]);
  });

  test("Connection keeps large fragments that fill their reads without copying them", () => {
    const connection = server();
    const payload = new Uint8Array(60_000).fill(7);
    connection.receive(clientFrame(0x2, payload, { fin: false }), 0);
    connection.receive(clientFrame(0x0, payload, { fin: false }), 0);
    assert.equal(connection.bufferedInputBytes, 120_000);
    const retained = connection.retainedInputBytes;
    assert.ok(retained >= 120_000 && retained <= 120_000 + 2 * 14, `${retained}`);
    const [event] = connection.receive(clientFrame(0x0, payload), 0);
    assert.equal((event as { data: Uint8Array }).data.length, 180_000);
  });

  test("Connection lets go of a read once every frame in it is parsed", () => {
    const connection = server();
    connection.receive(clientFrame(0x2, new Uint8Array(10)), 0);
    assert.equal(connection.retainedInputBytes, 0);
    const frame = clientFrame(0x2, new Uint8Array(10_000));
    connection.receive(frame.slice(0, 5000), 0);
    assert.equal(connection.bufferedInputBytes, 5000);
    assert.ok(connection.retainedInputBytes <= 2 * 5000, `${connection.retainedInputBytes}`);
  });
});

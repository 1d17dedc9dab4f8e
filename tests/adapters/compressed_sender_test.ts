import { test } from "node:test";
import assert from "node:assert/strict";
import { CompressedSender } from "../../src/adapters/compressed_sender.ts";
import { Connection } from "../../src/core/connection.ts";
import { FrameParser } from "../../src/core/frame.ts";
import type { MessageCodec } from "../../src/core/message_codec.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A codec whose compressions finish when the test says: "compressing" reverses the
 * bytes, so the frames show which payload went through it.
 */
class ManualCodec implements MessageCodec {
  readonly jobs: { input: Uint8Array; finish(): void; fail(error: Error): void }[] = [];

  compress(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.jobs.push({
        input: data,
        finish: () => resolve(data.slice().reverse()),
        fail: reject,
      });
    });
  }

  decompress(): Promise<Uint8Array> {
    throw new Error("not used");
  }

  close(): void {}
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The frames queued in a connection, as [opcode, rsv, payload as text]. */
function frames(connection: Connection): [number, number, string][] {
  const parser = new FrameParser({ role: "client", maxFrameBytes: 1 << 24 });
  const result: [number, number, string][] = [];
  for (const chunk of connection.takeOutput()) {
    parser.push(chunk.slice());
    for (let frame = parser.next(); frame !== undefined; frame = parser.next()) {
      result.push([frame.opcode, frame.rsv, decoder.decode(frame.payload)]);
    }
  }
  return result;
}

function setup(threshold = 4) {
  const connection = new Connection({ compression: true });
  const codec = new ManualCodec();
  let outputs = 0;
  const errors: unknown[] = [];
  const sender = new CompressedSender(
    connection,
    codec,
    threshold,
    () => outputs++,
    (error) => errors.push(error),
  );
  return { connection, codec, sender, errors, outputs: () => outputs };
}

test("CompressedSender frames small messages at once, uncompressed", () => {
  const { connection, sender, codec } = setup();
  sender.send("abc");
  sender.send(new Uint8Array([0x61]));
  assert.equal(codec.jobs.length, 0);
  assert.deepEqual(frames(connection), [[0x1, 0, "abc"], [0x2, 0, "a"]]);
});

test("CompressedSender compresses messages of at least threshold bytes, with RSV1", async () => {
  const { connection, sender, codec, outputs } = setup();
  sender.send("abcd");
  sender.send(encoder.encode("wxyz"));
  assert.deepEqual(frames(connection), []);
  codec.jobs[0].finish();
  await turn();
  assert.equal(outputs(), 1);
  codec.jobs[1].finish();
  await turn();
  assert.deepEqual(frames(connection), [[0x1, 4, "dcba"], [0x2, 4, "zyxw"]]);
});

test("CompressedSender measures text in UTF-8 bytes against the threshold", () => {
  const { sender, codec } = setup(4);
  sender.send("éé"); // 2 UTF-16 units, 4 UTF-8 bytes
  assert.equal(codec.jobs.length, 1);
  assert.deepEqual(codec.jobs[0].input, encoder.encode("éé"));
});

test("CompressedSender keeps later messages and the close behind a compression", async () => {
  const { connection, sender, codec } = setup();
  sender.send("big message");
  sender.send("s1");
  sender.send("another big one");
  sender.send("s2");
  sender.close(1000, "bye");
  assert.deepEqual(frames(connection), []);
  assert.equal(connection.state, "open");
  assert.equal(sender.queuedBytes, "big message".length + 2 + "another big one".length + 2);
  codec.jobs[0].finish();
  await turn();
  assert.deepEqual(frames(connection), [[0x1, 4, "egassem gib"], [0x1, 0, "s1"]]);
  codec.jobs[1].finish();
  await turn();
  const [last, ...before] = frames(connection).reverse();
  assert.deepEqual(before.reverse(), [[0x1, 4, "eno gib rehtona"], [0x1, 0, "s2"]]);
  assert.equal(last[0], 0x8);
  assert.equal(connection.state, "closing");
  assert.equal(sender.queuedBytes, 0);
});

test("CompressedSender closes at once when nothing waits", () => {
  const { connection, sender } = setup();
  sender.close(1001, "");
  assert.equal(connection.state, "closing");
  assert.equal(frames(connection)[0][0], 0x8);
});

test("CompressedSender drops what waited once the connection closed meanwhile", async () => {
  const { connection, sender, codec } = setup();
  sender.send("big message");
  sender.send("small");
  connection.fail(1002, "Protocol error");
  connection.takeOutput();
  codec.jobs[0].finish();
  await turn();
  assert.deepEqual(frames(connection), []);
  assert.equal(sender.queuedBytes, 0);
});

test("CompressedSender reports a failed compression and drops the queue", async () => {
  const { sender, codec, errors } = setup();
  sender.send("big message");
  sender.send("s");
  codec.jobs[0].fail(new Error("zlib broke"));
  await turn();
  assert.equal((errors[0] as Error).message, "zlib broke");
  assert.equal(sender.queuedBytes, 0);
});

test("CompressedSender answers the messages that came with the peer's Close, before it", () => {
  const { connection, codec, sender } = setup();
  // A masked Close 1000 from the client (mask 0): the connection closes while receiving
  // and its Close answer waits for the replies (Connection.canSend).
  const events = connection.receive(new Uint8Array([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]), 0);
  assert.equal(events.at(-1)?.type, "close");
  sender.send("ab");
  sender.send("long enough");
  sender.send(encoder.encode("bytes"));
  // No time to compress before the Close goes out: sent as they are (RFC 7692 §6).
  assert.equal(codec.jobs.length, 0);
  assert.deepEqual(frames(connection), [
    [0x1, 0, "ab"],
    [0x1, 0, "long enough"],
    [0x2, 0, "bytes"],
    [0x8, 0, decoder.decode(new Uint8Array([0x03, 0xe8]))],
  ]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { DeflateCodec } from "../../src/adapters/deflate_codec.ts";
import { DEFAULT_DEFLATE_OPTIONS, type DeflateOptions } from "../../src/core/deflate_options.ts";
import { WebSocketError } from "../../src/core/errors.ts";
import type { PerMessageDeflateAgreement } from "../../src/core/permessage_deflate.ts";
import { noise } from "../helpers/bytes.ts";
import { countInflated } from "../helpers/inflated.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const agreement = (changes: Partial<PerMessageDeflateAgreement> = {}) => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  response: "permessage-deflate",
  ...changes,
});

/** A codec; each test gets options of its own, so its own concurrency limiter. */
const codec = (
  changes: Partial<PerMessageDeflateAgreement> = {},
  options: Partial<DeflateOptions> = {},
) => new DeflateCodec(agreement(changes), { ...DEFAULT_DEFLATE_OPTIONS, ...options });

const bytes = (...values: number[]) => new Uint8Array(values);

/** RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello", then "Hello" again with the shared window. */
const HELLO = bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00);
const HELLO_AGAIN = bytes(0xf2, 0x00, 0x11, 0x00, 0x00);

async function assertRejects(promise: Promise<unknown>, code: number, reason: string) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${error}`);
    assert.equal(error.closeCode, code);
    assert.equal(error.reason, reason);
    return true;
  });
}

test("DeflateCodec compresses as RFC 7692 §7.2.3.1-2 show, sharing the window", async () => {
  const deflate = codec();
  assert.deepEqual(await deflate.compress(encoder.encode("Hello")), HELLO);
  assert.deepEqual(await deflate.compress(encoder.encode("Hello")), HELLO_AGAIN);
  deflate.close();
});

test("DeflateCodec gives plain Uint8Arrays, not the runtime's Buffer", async () => {
  const deflate = codec();
  const compressed = await deflate.compress(encoder.encode("Hello"));
  const message = await deflate.decompress(compressed, 100);
  assert.equal(Object.getPrototypeOf(compressed), Uint8Array.prototype);
  assert.equal(Object.getPrototypeOf(message), Uint8Array.prototype);
  deflate.close();
});

test("DeflateCodec with server_no_context_takeover compresses each message alone", async () => {
  const deflate = codec({ serverNoContextTakeover: true });
  assert.deepEqual(await deflate.compress(encoder.encode("Hello")), HELLO);
  assert.deepEqual(await deflate.compress(encoder.encode("Hello")), HELLO);
  deflate.close();
});

test("DeflateCodec decompresses RFC 7692 §7.2.3's messages with the shared window", async () => {
  const inflate = codec();
  assert.equal(decoder.decode(await inflate.decompress(HELLO, 100)), "Hello");
  assert.equal(decoder.decode(await inflate.decompress(HELLO_AGAIN, 100)), "Hello");
  // §7.2.3.3: a stored block; §7.2.3.4: BFINAL set, after which a new window starts.
  const stored = bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00);
  assert.equal(decoder.decode(await inflate.decompress(stored, 100)), "Hello");
  const final = bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00);
  assert.equal(decoder.decode(await inflate.decompress(final, 100)), "Hello");
  assert.equal(decoder.decode(await inflate.decompress(HELLO, 100)), "Hello");
  assert.equal(decoder.decode(await inflate.decompress(HELLO_AGAIN, 100)), "Hello");
  inflate.close();
});

test("DeflateCodec with client_no_context_takeover forgets each received message", async () => {
  const inflate = codec({ clientNoContextTakeover: true });
  assert.equal(decoder.decode(await inflate.decompress(HELLO, 100)), "Hello");
  // The second message refers back to the first, which this side must not keep.
  await assertRejects(inflate.decompress(HELLO_AGAIN, 100), 1007, "Invalid compressed data");
  inflate.close();
});

test("DeflateCodec round-trips text and binary of many sizes, with and without takeover", async () => {
  for (const noContextTakeover of [false, true]) {
    const sender = codec({
      serverNoContextTakeover: noContextTakeover,
      clientNoContextTakeover: noContextTakeover,
    });
    for (const size of [0, 1, 100, 16 * 1024, 100 * 1024]) {
      const message = size % 2 === 0 ? noise(size, size) : encoder.encode("é".repeat(size));
      const compressed = await sender.compress(message);
      assert.deepEqual(await sender.decompress(compressed, message.length), message);
    }
    sender.close();
  }
});

test("DeflateCodec honours server_max_window_bits: no match reaches past the window", async () => {
  // The second message repeats the first, 1000 bytes back: in reach of a 15-bit window
  // (32 KiB), out of reach of a 9-bit one (512 bytes).
  const message = noise(1000);
  const sizes: number[] = [];
  for (const bits of [15, 9]) {
    const sender = codec({ serverMaxWindowBits: bits });
    await sender.compress(message);
    sizes.push((await sender.compress(message)).length);
    sender.close();
  }
  assert.ok(sizes[0] < 50, `a 15-bit window should find the repeat: ${sizes[0]} bytes`);
  assert.ok(sizes[1] > 900, `a 9-bit window cannot reach it: ${sizes[1]} bytes`);
});

test("DeflateCodec with server_max_window_bits=8 stays within a 256-byte window", async () => {
  // zlib compresses "8" with 9 bits; a peer decompressing with a true 8-bit window (here
  // a codec whose client_max_window_bits is 8) must still read every message.
  const sender = codec({ serverMaxWindowBits: 8 });
  const receiver = codec({ clientMaxWindowBits: 8 });
  const pattern = noise(300);
  for (let i = 0; i < 5; i++) {
    const message = new Uint8Array(900);
    for (let at = 0; at < message.length; at += 300) message.set(pattern, at);
    message[i] ^= 0xff;
    assert.deepEqual(await receiver.decompress(await sender.compress(message), 1000), message);
  }
  sender.close();
  receiver.close();
});

test("DeflateCodec counts exactly maxBytes as allowed and one more as 1009", async () => {
  const inflate = codec();
  assert.equal((await inflate.decompress(HELLO, 5)).length, 5);
  await assertRejects(inflate.decompress(HELLO, 4), 1009, "Message too big");
  inflate.close();
});

test("DeflateCodec stops a compression bomb within one zlib chunk of the limit", async () => {
  // 16 MiB of zeros deflate to about 16 KiB; the limit is 64 KiB.
  const bomb = new Uint8Array(zlib.deflateRawSync(new Uint8Array(16 << 20)));
  const limit = 64 * 1024;
  const inflate = codec();
  const produced = await countInflated(() =>
    assertRejects(inflate.decompress(bomb, limit), 1009, "Message too big")
  );
  assert.ok(produced > limit, `decompression ran: ${produced} bytes`);
  assert.ok(produced <= limit + 16 * 1024, `${produced} bytes produced for a ${limit}-byte limit`);
  // The codec goes on with a fresh decompressor.
  assert.equal(decoder.decode(await inflate.decompress(HELLO, 100)), "Hello");
  inflate.close();
});

test("DeflateCodec rejects corrupt data with 1007, then decompresses afresh", async () => {
  const inflate = codec();
  await assertRejects(
    inflate.decompress(bytes(0xff, 0xff, 0xff), 100),
    1007,
    "Invalid compressed data",
  );
  // A distance before the start of any window.
  await assertRejects(inflate.decompress(HELLO_AGAIN, 100), 1007, "Invalid compressed data");
  assert.equal(decoder.decode(await inflate.decompress(HELLO, 100)), "Hello");
  inflate.close();
});

test("DeflateCodec applies level and memLevel", async () => {
  const text = encoder.encode("The quick brown fox jumps over the lazy dog. ".repeat(200) + "end");
  const stored = codec({}, { level: 0 });
  const best = codec({}, { level: 9, memLevel: 9 });
  const storedSize = (await stored.compress(text)).length;
  const bestSize = (await best.compress(text)).length;
  assert.ok(storedSize > text.length, `level 0 stores: ${storedSize}`);
  assert.ok(bestSize < text.length / 20, `level 9 compresses: ${bestSize}`);
  stored.close();
  best.close();
});

test("DeflateCodec rejects calls once closed", async () => {
  const closed = codec();
  await closed.compress(encoder.encode("Hello"));
  closed.close();
  await assert.rejects(
    closed.compress(encoder.encode("Hello")),
    /Cannot use the codec: it is closed/,
  );
  await assert.rejects(closed.decompress(HELLO, 100), /Cannot use the codec: it is closed/);
});

test("DeflateCodec runs at most concurrencyLimit jobs at once for a route", async () => {
  const options = { ...DEFAULT_DEFLATE_OPTIONS, concurrencyLimit: 1 };
  const first = new DeflateCodec(agreement(), options);
  const second = new DeflateCodec(agreement(), options);
  const order: string[] = [];
  const big = noise(1 << 20);
  await Promise.all([
    first.compress(big).then(() => order.push("first")),
    second.compress(encoder.encode("tiny")).then(() => order.push("second")),
  ]);
  // One at a time, in order: the tiny job waited for the big one.
  assert.deepEqual(order, ["first", "second"]);
  first.close();
  second.close();
});

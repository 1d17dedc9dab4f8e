import { test } from "node:test";
import assert from "node:assert/strict";
import { retain, RetainedBytes } from "../../src/core/retained_bytes.ts";
import { join, randomBytes, seededRandom } from "../helpers/frames.ts";

test("retain() keeps a view that fills at least half of its buffer, else copies it", () => {
  const read = new Uint8Array(1000).fill(1);
  assert.equal(retain(read), read);
  assert.equal(retain(read.subarray(0, 500)).buffer, read.buffer);
  const small = retain(read.subarray(10, 499));
  assert.notEqual(small.buffer, read.buffer);
  assert.equal(small.buffer.byteLength, 489);
  assert.deepEqual(small, read.subarray(10, 499));
  assert.equal(retain(read.subarray(0, 0)).buffer.byteLength, 0);
});

test("RetainedBytes joins pieces cut any way into the same bytes", () => {
  const random = seededRandom(11);
  for (let round = 0; round < 50; round++) {
    const pieces = Array.from({ length: 1 + random(40) }, () => {
      const read = randomBytes(random, [0, 1, 63, 64, 1023, 1024, 5000, 70_000][random(8)]);
      const from = random(read.length + 1);
      return read.subarray(from, from + random(read.length - from + 1));
    });
    const bytes = new RetainedBytes();
    for (const piece of pieces) bytes.append(piece);
    const expected = join(...pieces);
    assert.equal(bytes.byteLength, expected.length);
    assert.ok(bytes.retainedBytes <= 2 * expected.length + 64, `round ${round}`);
    assert.deepEqual(bytes.take(), expected);
    assert.equal(bytes.byteLength, 0);
    assert.equal(bytes.retainedBytes, 0);
  }
});

test("RetainedBytes copies small pieces and pieces of mostly other bytes", () => {
  const bytes = new RetainedBytes();
  const reads: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) {
    const read = new Uint8Array(64 * 1024);
    read[0] = i & 0xff;
    reads.push(read);
    bytes.append(read.subarray(0, i % 3 === 0 ? 2000 : 1));
  }
  assert.ok(bytes.retainedBytes <= 2 * bytes.byteLength + 64, `${bytes.retainedBytes}`);
  const joined = bytes.take();
  assert.ok(reads.every((read) => read.buffer !== joined.buffer));
});

test("RetainedBytes keeps a piece that fills its buffer as it is, without a copy", () => {
  const bytes = new RetainedBytes();
  const piece = new Uint8Array(4096).fill(3);
  bytes.append(piece);
  assert.equal(bytes.retainedBytes, 4096);
  assert.equal(bytes.take(), piece);
});

test("RetainedBytes holds nothing for empty pieces", () => {
  const bytes = new RetainedBytes();
  const read = new Uint8Array(1024);
  for (let i = 0; i < 100_000; i++) bytes.append(read.subarray(i % 1024, i % 1024));
  assert.equal(bytes.retainedBytes, 0);
  assert.equal(bytes.take().length, 0);
});

test("RetainedBytes.expect() moves the bytes into one buffer of the total from half-way", () => {
  const random = seededRandom(12);
  for (let round = 0; round < 50; round++) {
    const total = 1 + random(300_000);
    const payload = randomBytes(random, total);
    const bytes = new RetainedBytes();
    bytes.expect(total);
    for (let at = 0; at < total;) {
      const length = Math.min(total - at, 1 + random(70_000));
      // Each piece is a view of a read that may hold other bytes before it.
      const before = random(2) * random(40_000);
      const read = new Uint8Array(before + length);
      read.set(payload.subarray(at, at + length), before);
      bytes.append(read.subarray(before));
      at += length;
      assert.ok(bytes.retainedBytes <= 2 * bytes.byteLength + 64, `round ${round}`);
    }
    const joined = bytes.take();
    assert.deepEqual(joined, payload);
    assert.equal(bytes.retainedBytes, 0);
  }
});

test("RetainedBytes.clear() forgets what was added", () => {
  const bytes = new RetainedBytes();
  bytes.append(new Uint8Array(10));
  bytes.clear();
  assert.equal(bytes.byteLength, 0);
  assert.equal(bytes.retainedBytes, 0);
  bytes.append(Uint8Array.of(1, 2));
  assert.deepEqual(bytes.take(), Uint8Array.of(1, 2));
});

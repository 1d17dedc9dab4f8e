import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStream, type ReadableFile } from "../../src/files/file_stream.ts";

const TEXT = "0123456789abcdefghijklmnopqrstuvwxyz";

/** An in-memory file that records reads and closes, and can be told to fail. */
class FakeFile implements ReadableFile {
  closes = 0;
  reads: number[] = [];
  constructor(private bytes: Uint8Array, private failAt = Infinity) {}
  read(buffer: Uint8Array, offset: number, length: number, position: number) {
    this.reads.push(length);
    if (position >= this.failAt) return Promise.reject(new Error("disk on fire"));
    const part = this.bytes.subarray(position, position + length);
    buffer.set(part, offset);
    return Promise.resolve({ bytesRead: part.length });
  }
  close() {
    this.closes++;
    return Promise.resolve();
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function text(chunks: Uint8Array[]): string {
  return chunks.map((chunk) => new TextDecoder().decode(chunk)).join("");
}

test("fileStream() sends the requested bytes in chunks of at most chunkBytes", async () => {
  const file = new FakeFile(new TextEncoder().encode(TEXT));
  const chunks = await readAll(fileStream(file, 3, 20, 7));
  assert.equal(text(chunks), TEXT.slice(3, 23));
  assert.deepEqual(chunks.map((chunk) => chunk.length), [7, 7, 6]);
  assert.equal(file.closes, 1);
});

test("fileStream() closes the file without reading for a zero length", async () => {
  const file = new FakeFile(new TextEncoder().encode(TEXT));
  assert.deepEqual(await readAll(fileStream(file, 0, 0, 7)), []);
  assert.deepEqual(file.reads, []);
  assert.equal(file.closes, 1);
});

test("fileStream() closes the file once when cancelled mid-way", async () => {
  const file = new FakeFile(new TextEncoder().encode(TEXT));
  const reader = fileStream(file, 0, TEXT.length, 4).getReader();
  const first = await reader.read();
  assert.equal(text([first.value!]), "0123");
  await reader.cancel();
  const readsAtCancel = file.reads.length;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(file.closes, 1);
  assert.equal(file.reads.length, readsAtCancel, "no read after cancel");
  assert.ok(readsAtCancel <= 2, "read at most one chunk ahead");
});

test("fileStream() errors the stream and closes the file when a read fails", async () => {
  const file = new FakeFile(new TextEncoder().encode(TEXT), 8);
  await assert.rejects(readAll(fileStream(file, 0, TEXT.length, 4)), /disk on fire/);
  assert.equal(file.closes, 1);
});

test("fileStream() errors the stream when the file ends early", async () => {
  const file = new FakeFile(new TextEncoder().encode("short"));
  await assert.rejects(readAll(fileStream(file, 0, 100, 4)), /ended early/);
  assert.equal(file.closes, 1);
});

test("fileStream() streams a real FileHandle and closes it at the end", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wsport-stream-"));
  try {
    const path = join(dir, "data.txt");
    await writeFile(path, TEXT);
    const handle = await open(path, "r");
    let closes = 0;
    const counted: ReadableFile = {
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      close: () => {
        closes++;
        return handle.close();
      },
    };
    assert.equal(text(await readAll(fileStream(counted, 10, 26, 5))), TEXT.slice(10));
    assert.equal(closes, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

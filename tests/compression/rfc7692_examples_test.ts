// RFC 7692 §7.2.3's examples, through the core Connection and the zlib codec together:
// the frames decode to "Hello", and where the RFC's bytes are what zlib writes, "Hello"
// encodes to them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeflateCodec } from "../../src/adapters/deflate_codec.ts";
import { Connection, type ConnectionEvent } from "../../src/core/connection.ts";
import { DEFAULT_DEFLATE_OPTIONS } from "../../src/core/deflate_options.ts";
import { negotiatePerMessageDeflate } from "../../src/core/permessage_deflate.ts";

const agreement = negotiatePerMessageDeflate("permessage-deflate", DEFAULT_DEFLATE_OPTIONS)!;

/**
 * Feeds the RFC's (unmasked) frames to a client-side connection, decompressing each
 * compressed message as the adapters do, and returns the messages.
 */
async function decode(...frames: number[][]): Promise<(string | Uint8Array)[]> {
  const connection = new Connection({ role: "client", compression: true });
  const codec = new DeflateCodec(agreement, DEFAULT_DEFLATE_OPTIONS);
  const messages: (string | Uint8Array)[] = [];
  const handle = async (events: readonly ConnectionEvent[]) => {
    for (const event of events) {
      if (event.type === "message") messages.push(event.data);
      else if (event.type === "compressed") {
        await handle(connection.decompressed(await codec.decompress(event.data, 1024), 0));
      } else assert.fail(`unexpected ${event.type} event`);
    }
  };
  try {
    for (const frame of frames) await handle(connection.receive(new Uint8Array(frame), 0));
  } finally {
    codec.close();
  }
  return messages;
}

test("RFC 7692 §7.2.3.1: a compressed text message decodes to Hello", async () => {
  assert.deepEqual(await decode([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), [
    "Hello",
  ]);
});

test("RFC 7692 §7.2.3.1: a compressed message split in two fragments decodes to Hello", async () => {
  assert.deepEqual(
    await decode([0x41, 0x03, 0xf2, 0x48, 0xcd], [0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]),
    ["Hello"],
  );
});

test("RFC 7692 §7.2.3.2: the second Hello refers back into the shared sliding window", async () => {
  assert.deepEqual(
    await decode(
      [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
      [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00],
    ),
    ["Hello", "Hello"],
  );
});

test("RFC 7692 §7.2.3.3: a DEFLATE block with no compression decodes to Hello", async () => {
  assert.deepEqual(
    await decode([0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]),
    ["Hello"],
  );
});

test("RFC 7692 §7.2.3.4: a DEFLATE block with BFINAL set decodes to Hello, and so does the next", async () => {
  assert.deepEqual(
    await decode(
      [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
      [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
    ),
    ["Hello", "Hello"],
  );
});

test("RFC 7692 §7.2.3.5: two DEFLATE blocks in one message decode to Hello", async () => {
  assert.deepEqual(
    await decode([
      ...[0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff],
      ...[0xca, 0xc9, 0xc9, 0x07, 0x00],
    ]),
    ["Hello"],
  );
});

test("RFC 7692 §7.2.3.1-2: Hello twice encodes to the RFC's frames", async () => {
  const connection = new Connection({ compression: true });
  const codec = new DeflateCodec(agreement, DEFAULT_DEFLATE_OPTIONS);
  const hello = new TextEncoder().encode("Hello");
  connection.sendCompressed(await codec.compress(hello), true);
  connection.sendCompressed(await codec.compress(hello), true);
  codec.close();
  assert.deepEqual(connection.takeOutput(), [
    new Uint8Array([
      ...[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
      ...[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00],
    ]),
  ]);
});

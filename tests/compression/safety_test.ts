// What a hostile client can do with compression: a small frame that inflates far past
// the limit, corrupt DEFLATE data, and RSV1 where it is not allowed. Each ends in the
// RFC's close code with a Close frame, never an exception, on every adapter that
// compresses.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import { Opcode } from "../../src/core/constants.ts";
import { buildFrame } from "../../src/core/frame.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { RawClient, upgradeRequest, within } from "../helpers/client.ts";
import { countInflated } from "../helpers/inflated.ts";
import { Echo, type Pair, withSite } from "../helpers/server.ts";
import { compressingPairs } from "./scenario.ts";

const LIMIT = 1 << 20;
const encoder = new TextEncoder();

/** A site with a compressing echo route (1 MiB messages) and a plain one. */
function site(): WebSocketSite {
  const site = new WebSocketSite(undefined, { onError: () => {} });
  site.addHandler("/deflate", Echo, { perMessageDeflate: true, maxMessageBytes: LIMIT });
  site.addHandler("/plain", Echo, { maxMessageBytes: LIMIT });
  return site;
}

/** Raw clients of the running test, destroyed at its end whatever happens. */
const opened = new Set<RawClient>();

/** Serves {@linkcode site} on `pair` for `body`; the raw clients it opened are dropped. */
function withCompressionSite(pair: Pair, body: (port: number) => Promise<void>) {
  return withSite(site(), pair, async (server) => {
    try {
      await body(server.port);
    } finally {
      for (const client of opened) client.destroy();
      opened.clear();
    }
  });
}

/** Opens a raw connection offering permessage-deflate; returns it and the answer. */
async function open(port: number, path: string): Promise<{ client: RawClient; answer: string }> {
  const client = await RawClient.connect(port);
  opened.add(client);
  client.write(upgradeRequest(path, { "Sec-WebSocket-Extensions": "permessage-deflate" }));
  const head = await client.responseHead();
  assert.equal(head.status, 101);
  return { client, answer: head.headers.get("sec-websocket-extensions") ?? "" };
}

/** Sends a masked frame with the given RSV bits. */
function sendFrame(client: RawClient, opcode: number, payload: Uint8Array, rsv: number): void {
  client.write(
    buildFrame(opcode, payload, { rsv, mask: crypto.getRandomValues(new Uint8Array(4)) }),
  );
}

/** Raw DEFLATE of `data`, sync-flushed, the trailing 00 00 ff ff removed (§7.2.1). */
function deflate(data: Uint8Array): Uint8Array {
  const bytes = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length - 4);
}

/** Waits for the server's Close frame and the end of TCP; `undefined` without a Close. */
async function closeCode(client: RawClient): Promise<number | undefined> {
  try {
    while (true) {
      const frame = await client.nextFrame();
      if (frame.opcode === Opcode.Close) {
        await within(client.ended, "the server to close TCP");
        return (frame.payload[0] << 8) | frame.payload[1];
      }
    }
  } catch {
    await within(client.ended, "the server to close TCP");
    return undefined;
  }
}

/** A client-side decompressor keeping its window across messages, as the server's does. */
function inflater(): (payload: Uint8Array) => Promise<string> {
  const stream = zlib.createInflateRaw();
  return (payload) =>
    new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      const onData = (chunk: Uint8Array) => chunks.push(chunk);
      stream.on("data", onData);
      stream.once("error", reject);
      stream.write(payload);
      stream.write(new Uint8Array([0x00, 0x00, 0xff, 0xff]));
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.off("data", onData);
        stream.off("error", reject);
        resolve(new TextDecoder().decode(Buffer.concat(chunks)));
      });
    });
}

for (const pair of compressingPairs) {
  describe(`${pair.name}: compression safety`, () => {
    test("a 256 KiB frame inflating to 256 MiB ends in 1009 with memory bounded", async () => {
      const bomb = deflate(new Uint8Array(256 << 20));
      assert.ok(bomb.length < 300_000, `the bomb is ${bomb.length} bytes`);
      await withCompressionSite(pair, async (port) => {
        const rssBefore = process.memoryUsage().rss;
        const produced = await countInflated(async () => {
          const { client } = await open(port, "/deflate");
          sendFrame(client, Opcode.Binary, bomb, 4);
          assert.equal(await closeCode(client), 1009);
        });
        const growth = process.memoryUsage().rss - rssBefore;
        assert.ok(growth < 128 << 20, `RSS grew by ${growth >> 20} MiB`);
        if (pair.adapter === "node") {
          // zlib stops within one 16 KiB chunk of the limit.
          assert.ok(produced > LIMIT, `inflated ${produced} bytes`);
          assert.ok(produced <= LIMIT + 16 * 1024, `inflated ${produced} bytes`);
        }
      });
    });

    test("a message inflating to exactly the limit is delivered", async () => {
      const message = new Uint8Array(LIMIT).fill(0x61);
      await withCompressionSite(pair, async (port) => {
        const { client } = await open(port, "/deflate");
        sendFrame(client, Opcode.Binary, deflate(message), 4);
        const echo = await client.nextFrame();
        assert.equal(echo.opcode, Opcode.Binary);
        assert.equal(echo.rsv, 4);
        client.sendClose(1000);
        assert.equal(await closeCode(client), 1000);
      });
    });

    test("corrupt DEFLATE data ends in 1007", async () => {
      await withCompressionSite(pair, async (port) => {
        const { client } = await open(port, "/deflate");
        sendFrame(client, Opcode.Text, new Uint8Array([0xff, 0xff, 0xff, 0xff]), 4);
        assert.equal(await closeCode(client), 1007);
      });
    });

    test("compressed text that inflates to invalid UTF-8 ends in 1007", async () => {
      await withCompressionSite(pair, async (port) => {
        const { client } = await open(port, "/deflate");
        sendFrame(client, Opcode.Text, deflate(new Uint8Array([0x48, 0xc0, 0x80])), 4);
        assert.equal(await closeCode(client), 1007);
      });
    });

    test("RSV1 on a control frame ends in 1002", async () => {
      await withCompressionSite(pair, async (port) => {
        const { client } = await open(port, "/deflate");
        sendFrame(client, Opcode.Ping, new Uint8Array(0), 4);
        assert.equal(await closeCode(client), 1002);
      });
    });

    test("RSV1 on a route that did not negotiate compression ends in 1002", async () => {
      await withCompressionSite(pair, async (port) => {
        const { client, answer } = await open(port, "/plain");
        assert.equal(answer, "");
        sendFrame(client, Opcode.Text, deflate(encoder.encode("Hello")), 4);
        assert.equal(await closeCode(client), 1002);
      });
    });

    test("compressed and plain messages interleave in order", async () => {
      await withCompressionSite(pair, async (port) => {
        const { client } = await open(port, "/deflate");
        const inflate = inflater();
        const texts = ["one", "two ".repeat(400), "three", "four ".repeat(300)];
        texts.forEach((text, index) =>
          sendFrame(
            client,
            Opcode.Text,
            index % 2 === 0 ? encoder.encode(text) : deflate(encoder.encode(text)),
            index % 2 === 0 ? 0 : 4,
          )
        );
        for (const text of texts) {
          const echo = await client.nextFrame();
          const size = encoder.encode(text).length;
          assert.equal(echo.rsv, size >= 1024 ? 4 : 0, text.slice(0, 5));
          const received = echo.rsv === 4
            ? await inflate(echo.payload)
            : new TextDecoder().decode(echo.payload);
          assert.equal(received, text);
        }
        client.sendClose(1000);
        assert.equal(await closeCode(client), 1000);
      });
    });
  });
}

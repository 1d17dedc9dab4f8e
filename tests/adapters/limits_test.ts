/**
 * The liveness and flow-control limits at the adapter level, on every adapter this
 * runtime offers: header limits, the idle timeout, the close-handshake timeout, the
 * receive queue and shutdown with a peer that never answers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import { Opcode } from "../../src/core/constants.ts";
import { buildFrame } from "../../src/core/frame.ts";
import { DEFAULT_LIMITS, type Limits } from "../../src/core/limits.ts";
import { type HandlerClass, WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import {
  assertRefused,
  Client,
  RawClient,
  rawRequest,
  readToClose,
  upgradeRequest,
  within,
} from "../helpers/client.ts";
import { deferred, Echo, pairs, recorder, withSite, wsUrl } from "../helpers/server.ts";

const KiB = 1024;

/** Waits `ms`: only where letting time pass is the point. */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A site with `handler` at `/ws` and these limits. */
function siteWith(handler: HandlerClass, limits: Partial<Limits>): WebSocketSite {
  const site = new WebSocketSite(undefined, { limits });
  site.addHandler("/ws", handler);
  return site;
}

/** `count` extra header lines, `X-Extra-0: 0` and on. */
function extraHeaders(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`X-Extra-${i}`, `${i}`]));
}

/** A plain GET for `/` with these header lines after `Host`. */
function plainRequest(extra: Record<string, string>): string {
  let head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const [name, value] of Object.entries(extra)) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

const headerLimitSkip = (pair: { adapter: string }) =>
  pair.adapter === "deno"
    ? "Deno.serve applies its own header limits"
    : pair.adapter === "bun"
    ? "Bun.serve applies its own header limits"
    : false;

for (const pair of pairs) {
  test(`maxHeaderCount on ${pair.name}: 431 for 21 headers, not for 20`, {
    skip: headerLimitSkip(pair),
  }, async () => {
    await withSite(siteWith(Echo, { maxHeaderCount: 20 }), pair, async (server) => {
      // An upgrade request has 5 headers of its own; a plain one here has 2.
      const atLimit = await rawRequest(server.port, upgradeRequest("/ws", extraHeaders(15)));
      assert.equal(atLimit.status, 101);
      const over = await rawRequest(server.port, upgradeRequest("/ws", extraHeaders(16)));
      assert.equal(over.status, 431);
      assert.match(over.body, /Too many request header fields/);
      const plainAtLimit = await rawRequest(server.port, plainRequest(extraHeaders(18)));
      assert.equal(plainAtLimit.status, 404);
      const plainOver = await rawRequest(server.port, plainRequest(extraHeaders(19)));
      assert.equal(plainOver.status, 431);
      assert.match(plainOver.body, /Too many request header fields/);
    });
  });

  test(`maxHeaderBytes on ${pair.name}: 431 for a 2 KiB head, not for a small one`, {
    skip: headerLimitSkip(pair),
  }, async () => {
    await withSite(siteWith(Echo, { maxHeaderBytes: KiB }), pair, async (server) => {
      const small = await rawRequest(server.port, upgradeRequest("/ws", { "X-Pad": "p" }));
      assert.equal(small.status, 101);
      const big = { "X-Pad": "p".repeat(2 * KiB) };
      const over = await rawRequest(server.port, upgradeRequest("/ws", big));
      assert.equal(over.status, 431);
      assert.match(over.body, /Request header fields too large/);
      const plainOver = await rawRequest(server.port, plainRequest(big));
      assert.equal(plainOver.status, 431);
    });
  });

  const idleLimits = { idleTimeoutMs: 600, heartbeatIntervalMs: 0, closeTimeoutMs: 1000 };

  test(`idleTimeoutMs on ${pair.name}: a client that sends nothing is closed with 1001`, async () => {
    const { first, Recorded } = recorder();
    await withSite(siteWith(Recorded, idleLimits), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      const idle = { code: 1001, reason: "Idle timeout", wasClean: true };
      assert.deepEqual(await within(client.closed, "the idle close"), idle);
      assert.deepEqual(await within(first, "connectionLost"), idle);
    });
  });

  test(`idleTimeoutMs on ${pair.name}: a client sending every 100 ms stays open`, async () => {
    const { lost, Recorded } = recorder();
    await withSite(siteWith(Recorded, idleLimits), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      let closed = false;
      client.closed.then(() => closed = true);
      // 8 × 100 ms outlasts the 600 ms idle timeout.
      for (let i = 0; i < 8; i++) {
        await delay(100);
        client.send(`beat ${i}`);
        assert.equal(await client.next(), `beat ${i}`);
      }
      assert.equal(closed, false);
      assert.deepEqual(lost, []);
      assert.deepEqual(await client.closeAndWait(), { code: 1000, reason: "", wasClean: true });
    });
  });

  const closeTimeoutCase = {
    node: "a peer that never answers a Close is dropped with 1006",
    deno: "a peer that never answers a Close lingers until shutdown",
    bun: "Bun ends TCP right after the Close, without waiting for the peer",
  }[pair.adapter];
  test(`closeTimeoutMs on ${pair.name}: ${closeTimeoutCase}`, async () => {
    class Closer extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.close(4000, "bye");
      }
    }
    const { first, lost, Recorded } = recorder(Closer);
    const closeTimeoutMs = 300;
    const timedOut = { code: 1006, reason: "Close handshake timed out", wasClean: false };
    let client: RawClient | undefined;
    await withSite(siteWith(Recorded, { closeTimeoutMs }), pair, async (server) => {
      // A raw client that never answers the Close frame and never closes TCP first (node:net
      // answers the server's FIN with its own, as any socket does).
      client = await RawClient.upgraded(server.port, "/ws");
      assert.deepEqual(await readToClose(client), {
        opcodes: [],
        close: { code: 4000, reason: "bye" },
      });
      if (pair.adapter === "deno") {
        // README, Per-runtime notes, Deno.serve: "on a close timeout Deno can only start a
        // close". The close had started, so nothing happens at all: the connection and its
        // handler wait for the peer, or for shutdown.
        await delay(3 * closeTimeoutMs);
        assert.equal(client.isEnded, false);
        assert.deepEqual(lost, []);
        return;
      }
      await within(client.ended, "the server to drop TCP");
      // uWebSockets sends FIN with the Close frame and reports the close at once, as clean:
      // the close timeout never applies on Bun.serve.
      const info = pair.adapter === "bun"
        ? { code: 4000, reason: "bye", wasClean: true }
        : timedOut;
      assert.deepEqual(await within(first, "connectionLost"), info);
    });
    if (pair.adapter === "deno") {
      // Shutdown drops it, with the close timeout as the reason.
      await within(client!.ended, "shutdown to drop TCP");
      assert.deepEqual(lost, [timedOut]);
    }
    client!.destroy();
  });

  test(
    `maxReceiveQueueBytes on ${pair.name}: ${
      pair.native ? "1008 when" : "reading pauses while"
    } a slow handler's queue is full`,
    async () => {
      const release = deferred();
      const received: number[] = [];
      /** Settles once `expected` messages were delivered. */
      const allIn = deferred();
      let expected = Infinity;
      class Slow extends WebSocketHandler {
        override async frameReceived(frame: string | Uint8Array): Promise<void> {
          const bytes = frame as Uint8Array;
          received.push(
            new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0),
          );
          if (received.length === expected) allIn.resolve();
          if (received.length === 1) await release.promise;
        }
      }
      const { first, lost, Recorded } = recorder(Slow);
      const limits = { maxReceiveQueueBytes: 64 * KiB, closeTimeoutMs: 1000 };
      const message = (seq: number) => {
        const bytes = new Uint8Array(16 * KiB);
        new DataView(bytes.buffer).setUint32(0, seq);
        return bytes;
      };
      await withSite(siteWith(Recorded, limits), pair, async (server) => {
        try {
          const client = await RawClient.upgraded(server.port, "/ws");
          if (pair.native) {
            // Native WebSockets cannot stop reading: past the queue limit the connection
            // closes. 32 messages of 16 KiB: the limit is passed at the 6th.
            for (let i = 0; i < 32; i++) client.sendFrame(Opcode.Binary, message(i));
            assert.deepEqual(await within(first, "connectionLost"), {
              code: 1008,
              reason: "Receive queue overflow",
              wasClean: false,
            });
            const reading = await readToClose(client);
            await within(client.ended, "the server to close TCP");
            // Bun sends the Close frame; Deno closes TCP with our later messages unread, so
            // the peer gets a reset and no Close frame (as for a send buffer overflow).
            const close = pair.adapter === "bun"
              ? { code: 1008, reason: "Receive queue overflow" }
              : undefined;
            assert.deepEqual(reading, { opcodes: [], close });
            assert.deepEqual(received, [0]);
            return;
          }
          // Send until our writes stall: the server stopped reading.
          let sent = 0;
          let stalled = false;
          while (sent < 2048 && !stalled && !client.isEnded) {
            if (!client.sendFrame(Opcode.Binary, message(sent++))) {
              const drained = new Promise<boolean>((resolve) =>
                client.socket.once("drain", () => resolve(true))
              );
              stalled = !await Promise.race([drained, delay(500).then(() => false)]);
            }
          }
          assert.equal(stalled, true, `the client's writes stalled (sent ${sent})`);
          assert.deepEqual(received, [0], "the handler is still on the first message");
          assert.deepEqual(lost, []);
          expected = sent;
          release.resolve();
          await within(allIn.promise, `all ${sent} messages delivered`);
          assert.deepEqual(received, Array.from({ length: sent }, (_, i) => i));
          client.sendClose(1000);
          assert.deepEqual(await readToClose(client), {
            opcodes: [],
            close: { code: 1000, reason: "" },
          });
          await within(client.ended, "the server to close TCP");
          assert.deepEqual(await within(first, "connectionLost"), {
            code: 1000,
            reason: "",
            wasClean: true,
          });
        } finally {
          release.resolve();
        }
      });
    },
  );

  test(`maxMessageBytes on ${pair.name}: a message of exactly the default limit is echoed, whole and fragmented`, async () => {
    const size = DEFAULT_LIMITS.maxMessageBytes;
    const binary = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) binary[i] = (i >> 12) & 0xff;
    const text = "x".repeat(size);
    const { lost, Recorded } = recorder(Echo);
    const site = new WebSocketSite();
    site.addHandler("/ws", Recorded);
    await withSite(site, pair, async (server) => {
      const client = await RawClient.upgraded(server.port, "/ws");
      client.sendFrame(Opcode.Binary, binary);
      const first = await client.nextFrame();
      assert.equal(first.opcode, Opcode.Binary);
      assert.equal(first.length, size);
      assert.ok(first.payload.every((byte, i) => byte === binary[i]), "the same bytes");
      // Then text in four fragments of 4 MiB (native adapters cannot stop reading: a
      // second echo sent while the first is still buffered could pass the limit).
      const bytes = new TextEncoder().encode(text);
      const quarter = size / 4;
      for (let i = 0; i < 4; i++) {
        const mask = crypto.getRandomValues(new Uint8Array(4));
        client.write(
          buildFrame(
            i === 0 ? Opcode.Text : Opcode.Continuation,
            bytes.subarray(i * quarter, (i + 1) * quarter),
            { fin: i === 3, mask },
          ),
        );
      }
      const second = await client.nextFrame();
      assert.equal(second.opcode, Opcode.Text);
      assert.equal(second.length, size);
      assert.ok(second.payload.every((byte) => byte === 0x78), "the same text");
      assert.deepEqual(lost, [], "no 1008");
      client.sendClose(1000);
      assert.deepEqual((await readToClose(client)).close, { code: 1000, reason: "" });
      await within(client.ended, "the server to close TCP");
    });
  });

  test(`shutdown on ${pair.name}: completes past a peer that never answers the 1001`, async () => {
    const closeTimeoutMs = 300;
    const { first, Recorded } = recorder();
    const site = siteWith(Recorded, { closeTimeoutMs });
    const server = await serve(site, { port: 0, hostname: "127.0.0.1", adapter: pair.adapter });
    const client = await RawClient.upgraded(server.port, "/ws");
    try {
      const closing = readToClose(client);
      await within(server.shutdown(), "shutdown", 2 * closeTimeoutMs + 2000);
      await within(server.finished, "finished");
      assert.deepEqual(await closing, {
        opcodes: [],
        close: { code: 1001, reason: "Server shutting down" },
      });
      await within(client.ended, "the server to drop TCP");
      // Bun reports its own Close as clean at once (see the closeTimeoutMs test); the
      // others, that the closing handshake timed out.
      assert.deepEqual(
        await within(first, "connectionLost"),
        pair.adapter === "bun"
          ? { code: 1001, reason: "Server shutting down", wasClean: true }
          : { code: 1006, reason: "Close handshake timed out", wasClean: false },
      );
      await assertRefused(server.port);
    } finally {
      client.destroy();
      await within(server.shutdown(), "shutdown");
    }
  });
}

/**
 * What every adapter's server does over time and under load: shutdown, the heartbeat,
 * the handshake timeout and backpressure, on every adapter this runtime offers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import { Opcode } from "../../src/core/constants.ts";
import type { CloseInfo } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { assertRefused, Client, RawClient, readToClose, within } from "../helpers/client.ts";
import { deferred, Echo, pairs, recorder, withSite, wsUrl } from "../helpers/server.ts";

const KiB = 1024;

/** Waits `ms`: only where waiting for a timeout is the point. */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const pair of pairs) {
  test(`shutdown on ${pair.name}: 1001 to open clients, finished settles, the port refuses`, async () => {
    const { lost, Recorded } = recorder();
    const site = new WebSocketSite();
    site.addHandler("/ws", Recorded);
    const server = await serve(site, { port: 0, hostname: "127.0.0.1", adapter: pair.adapter });
    const clients = [
      await Client.open(wsUrl(server, "/ws")),
      await Client.open(wsUrl(server, "/ws")),
    ];
    clients[0].send("before");
    assert.equal(await clients[0].next(), "before");
    let finished = false;
    server.finished.then(() => finished = true);
    assert.equal(finished, false);
    await within(server.shutdown(), "shutdown");
    await within(server.finished, "finished");
    const goingAway = { code: 1001, reason: "Server shutting down", wasClean: true };
    for (const client of clients) assert.deepEqual(await within(client.closed, "close"), goingAway);
    assert.deepEqual(lost, [goingAway, goingAway]);
    assert.equal(site.connections.size, 0);
    await assertRefused(server.port);
  });

  // Deno's heartbeat is its idleTimeout, in whole seconds (see DIFFERENCES.md).
  const beatMs = pair.adapter === "deno" ? 1000 : 200;
  test(`heartbeat on ${pair.name}: a peer that never answers pings is closed`, async () => {
    const { first, Recorded } = recorder();
    const site = new WebSocketSite(undefined, {
      limits: { heartbeatIntervalMs: beatMs, heartbeatTimeoutMs: beatMs, closeTimeoutMs: 300 },
    });
    site.addHandler("/ws", Recorded);
    await withSite(site, pair, async (server) => {
      const client = await RawClient.upgraded(server.port, "/ws");
      const reading = await readToClose(client);
      await within(client.ended, "the server to close TCP");
      assert.ok(reading.opcodes.length >= 1, "at least one ping came");
      assert.ok(reading.opcodes.every((opcode) => opcode === Opcode.Ping), "only pings came");
      const reason = pair.adapter === "deno" ? "No response from ping frame." : "Heartbeat timeout";
      assert.deepEqual(reading.close, { code: 1001, reason });
      assert.deepEqual(await within(first, "connectionLost"), {
        code: 1001,
        reason,
        wasClean: false,
      });
    });
  });

  test(`handshake timeout on ${pair.name}: a stalled request is dropped`, async () => {
    const site = new WebSocketSite(undefined, { limits: { handshakeTimeoutMs: 300 } });
    site.addHandler("/ws", Echo);
    let client: RawClient | undefined;
    await withSite(site, pair, async (server) => {
      client = await RawClient.connect(server.port);
      client.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      if (pair.native) {
        // Deno.serve and Bun.serve have no handshake timeout (see DIFFERENCES.md): the
        // socket outlives it, until shutdown.
        await delay(900);
        assert.equal(client.isEnded, false);
      } else {
        await within(client.ended, "the server to drop the stalled socket");
      }
    });
    await within(client!.ended, "shutdown to drop the stalled socket");
  });

  test(`backpressure on ${pair.name}: a client that never reads cannot grow the send buffer`, async () => {
    const limits = {
      sendPauseBytes: 64 * KiB,
      maxSendBufferBytes: 2048 * KiB,
      closeTimeoutMs: 500,
    };
    let received = 0;
    let mostBuffered = 0;
    const lost = deferred<CloseInfo>();
    let isLost = false;
    class Echoing extends WebSocketHandler {
      override frameReceived(frame: string | Uint8Array): void {
        received++;
        this.transport.write(frame);
        mostBuffered = Math.max(mostBuffered, this.transport.bufferedAmount);
      }
      override connectionLost(info: CloseInfo): void {
        isLost = true;
        lost.resolve(info);
      }
    }
    const site = new WebSocketSite(undefined, { limits });
    site.addHandler("/ws", Echoing);
    await withSite(site, pair, async (server) => {
      const client = await RawClient.upgraded(server.port, "/ws");
      client.pause();
      const payload = new Uint8Array(64 * KiB);
      // Send until our own writes stall (the server stopped reading) or it gave up on us.
      let sent = 0;
      let stalled = false;
      while (sent < 512 && !stalled && !isLost && !client.isEnded) {
        sent++;
        if (!client.sendFrame(Opcode.Binary, payload)) {
          const drained = new Promise<boolean>((resolve) =>
            client.socket.once("drain", () => resolve(true))
          );
          stalled = !await Promise.race([drained, delay(500).then(() => false)]);
        }
      }
      if (pair.native) {
        // No way to stop reading: past maxSendBufferBytes the connection is failed.
        assert.deepEqual(await within(lost.promise, "connectionLost"), {
          code: 1008,
          reason: "Send buffer overflow",
          wasClean: false,
        });
        client.resume();
        const reading = await readToClose(client);
        await within(client.ended, "the server to close TCP");
        // Bun delivers what it buffered, then the Close frame; Deno resets the connection.
        const close = pair.adapter === "bun"
          ? { code: 1008, reason: "Send buffer overflow" }
          : undefined;
        assert.deepEqual(reading.close, close);
      } else {
        // Reading paused: our writes stalled, the handler saw only part of them, and the
        // send buffer stayed below the overflow limit.
        assert.equal(stalled, true, "the client's writes stalled");
        assert.ok(received < sent, `the server read ${received} of ${sent} messages`);
        assert.ok(mostBuffered < limits.maxSendBufferBytes, `buffered ${mostBuffered}`);
        assert.equal(isLost, false);
        // Once we read again, every message comes back and the connection closes cleanly.
        client.resume();
        for (let i = 0; i < sent; i++) {
          const frame = await client.nextFrame();
          assert.equal(frame.opcode, Opcode.Binary);
          assert.equal(frame.payload.length, payload.length);
        }
        client.sendClose(1000);
        assert.deepEqual(await readToClose(client), {
          opcodes: [],
          close: { code: 1000, reason: "" },
        });
        await within(client.ended, "the server to close TCP");
        assert.deepEqual(await within(lost.promise, "connectionLost"), {
          code: 1000,
          reason: "",
          wasClean: true,
        });
      }
      client.destroy();
    });
  });
}

/**
 * `site.stats()`: the same scenario on every adapter this runtime offers gives the same
 * exact counts, since they are counted in the site and the session, which every adapter
 * goes through.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Limits } from "../../src/core/limits.ts";
import type { Backplane } from "../../src/site/backplane.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import type { LifecycleEvent } from "../../src/site/lifecycle_event.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { RouteStats } from "../../src/site/stats.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client, rawRequest, upgradeRequest, within } from "../helpers/client.ts";
import { deferred, Echo, pairs, withSite, wsUrl } from "../helpers/server.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A route's numbers before anything happened. */
const ZERO: RouteStats = {
  open: 0,
  accepted: 0,
  refused: {},
  messagesIn: 0,
  bytesIn: 0,
  messagesOut: 0,
  bytesOut: 0,
  closeCodes: {},
  sendBufferOverflows: 0,
  receiveQueueOverflows: 0,
};

/**
 * A site whose `onLifecycle` records every event, with a way to wait for the `count`th
 * close (the server's side of a close ends after the client's).
 */
function recordingSite(limits?: Partial<Limits>): {
  site: WebSocketSite;
  events: LifecycleEvent[];
  closes: (count: number) => Promise<void>;
} {
  const events: LifecycleEvent[] = [];
  let waiting: { count: number; done: () => void } | undefined;
  const closeCount = () => events.filter((event) => event.type === "close").length;
  const site = new WebSocketSite(undefined, {
    limits,
    onLifecycle(event) {
      events.push(event);
      if (waiting !== undefined && closeCount() >= waiting.count) waiting.done();
    },
  });
  const closes = (count: number) => {
    if (closeCount() >= count) return Promise.resolve();
    const done = deferred();
    waiting = { count, done: () => done.resolve() };
    return within(done.promise, `${count} connections to close on the server`);
  };
  return { site, events, closes };
}

test("site.stats() has every route, all zero, before any connection", () => {
  const site = new WebSocketSite();
  site.addHandler("/a", Echo).addHandler("/b", Echo);
  assert.deepEqual(site.stats(), { routes: { "/a": ZERO, "/b": ZERO }, backplane: undefined });
});

test("site.stats() gives the backplane's status where it tells one", () => {
  const backplane = (status?: string): Backplane => ({
    publish() {},
    onMessage() {},
    ...(status === undefined ? {} : { status }),
  });
  assert.deepEqual(
    new WebSocketSite(undefined, { backplane: backplane("up") }).stats().backplane,
    { status: "up" },
  );
  assert.deepEqual(
    new WebSocketSite(undefined, { backplane: backplane() }).stats().backplane,
    { status: undefined },
  );
});

for (const pair of pairs) {
  test(`site.stats() on ${pair.name}: handshakes, messages, bytes and close codes, exactly`, async () => {
    const { site, closes } = recordingSite();
    site.addHandler("/echo", Echo, { allowedOrigins: ["https://example.com"] });
    site.addHandler("/auth", Echo, {
      onUpgrade: (request) =>
        new URL(request.url).searchParams.has("token")
          ? undefined
          : new Response("Unauthorized", { status: 401 }),
    });
    await withSite(site, pair, async (server) => {
      const refusals: [string, Record<string, string>, number][] = [
        ["/echo", { "Sec-WebSocket-Version": "8" }, 426],
        ["/echo", { "Sec-WebSocket-Key": "short" }, 400],
        ["/echo", { Origin: "https://evil.example" }, 403],
        ["/auth", {}, 401],
        ["/auth", {}, 401],
      ];
      for (const [path, headers, status] of refusals) {
        const response = await rawRequest(server.port, upgradeRequest(path, headers));
        assert.equal(response.status, status, `${path} with ${JSON.stringify(headers)}`);
      }
      // Not a WebSocket route: plain HTTP, counted nowhere.
      assert.equal((await rawRequest(server.port, upgradeRequest("/nowhere"))).status, 404);

      const first = await Client.open(wsUrl(server, "/echo"));
      const second = await Client.open(wsUrl(server, "/echo"));
      assert.equal(site.stats().routes["/echo"].open, 2);
      first.send("héllo"); // 6 bytes in UTF-8
      assert.equal(await first.next(), "héllo");
      first.send(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await first.next(), new Uint8Array([1, 2, 3]));
      second.send("😀"); // 4 bytes
      assert.equal(await second.next(), "😀");
      second.send("");
      assert.equal(await second.next(), "");
      first.close(1000);
      second.close(4000, "bye");
      await within(first.closed, "the first client to close");
      await within(second.closed, "the second client to close");
      const authorized = await Client.open(wsUrl(server, "/auth?token=1"));
      await authorized.closeAndWait(4001);
      await closes(3);
    });
    const stats = site.stats();
    assert.deepEqual(stats.routes["/echo"], {
      ...ZERO,
      accepted: 2,
      refused: { 400: 1, 403: 1, 426: 1 },
      messagesIn: 4,
      bytesIn: 6 + 3 + 4 + 0,
      messagesOut: 4,
      bytesOut: 6 + 3 + 4 + 0,
      closeCodes: { 1000: 1, 4000: 1 },
    });
    assert.deepEqual(stats.routes["/auth"], {
      ...ZERO,
      accepted: 1,
      refused: { 401: 2 },
      closeCodes: { 4001: 1 },
    });
  });

  test(`site.stats() on ${pair.name}: published messages count once per subscriber`, async () => {
    const { site, closes } = recordingSite();
    const joined = deferred();
    let members = 0;
    class Room extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.subscribe("room");
        if (++members === 3) joined.resolve();
      }
      override frameReceived(frame: string | Uint8Array): void {
        this.transport.publish("room", frame);
      }
    }
    site.addHandler("/room", Room);
    await withSite(site, pair, async (server) => {
      const clients = [];
      for (let i = 0; i < 3; i++) clients.push(await Client.open(wsUrl(server, "/room")));
      await within(joined.promise, "three members");
      // From the site: all three get it (through Bun's own pub/sub on Bun.serve).
      site.publish("room", "hi all");
      for (const client of clients) assert.equal(await client.next(), "hi all");
      // From a member: the two others get it.
      clients[0].send(new Uint8Array(10));
      assert.deepEqual(await clients[1].next(), new Uint8Array(10));
      assert.deepEqual(await clients[2].next(), new Uint8Array(10));
      for (const client of clients) await client.closeAndWait();
      await closes(3);
    });
    assert.deepEqual(site.stats().routes["/room"], {
      ...ZERO,
      accepted: 3,
      messagesIn: 1,
      bytesIn: 10,
      messagesOut: 3 + 2,
      bytesOut: 3 * 6 + 2 * 10,
      closeCodes: { 1000: 3 },
    });
  });

  test(`site.stats() on ${pair.name}: a send-buffer overflow is counted, and its 1008`, async () => {
    const { site, closes } = recordingSite({ maxSendBufferBytes: 1 * MiB, closeTimeoutMs: 500 });
    const big = new Uint8Array(16 * MiB);
    class Writer extends WebSocketHandler {
      override frameReceived(): void {
        this.transport.write(big);
        this.transport.write("dropped: the connection is failing");
      }
    }
    site.addHandler("/ws", Writer);
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.send("go");
      await within(client.closed, "the client to see the connection end");
      await closes(1);
    });
    assert.deepEqual(site.stats().routes["/ws"], {
      ...ZERO,
      accepted: 1,
      messagesIn: 1,
      bytesIn: 2,
      messagesOut: 1,
      bytesOut: 16 * MiB,
      closeCodes: { 1008: 1 },
      sendBufferOverflows: 1,
    });
  });

  if (pair.native) {
    test(`site.stats() on ${pair.name}: a receive-queue overflow is counted, and its 1008`, async () => {
      const { site, closes } = recordingSite({
        maxReceiveQueueBytes: 64 * KiB,
        closeTimeoutMs: 500,
      });
      const never = deferred();
      class Stuck extends WebSocketHandler {
        override frameReceived(): Promise<void> {
          return never.promise;
        }
      }
      site.addHandler("/ws", Stuck);
      await withSite(site, pair, async (server) => {
        const client = await Client.open(wsUrl(server, "/ws"));
        // The first is delivered and never finishes; each queued one counts 16 KiB and 512
        // bytes, so the fifth passes 64 KiB. Native WebSockets cannot stop reading.
        for (let i = 0; i < 8; i++) client.send(new Uint8Array(16 * KiB));
        await within(client.closed, "the client to see the connection end");
        await closes(1);
      });
      never.resolve();
      assert.deepEqual(site.stats().routes["/ws"], {
        ...ZERO,
        accepted: 1,
        messagesIn: 5,
        bytesIn: 5 * 16 * KiB,
        closeCodes: { 1008: 1 },
        receiveQueueOverflows: 1,
      });
    });
  }

  if (pair.runtime === "node") {
    test(`site.stats() on ${pair.name}: compressed messages count their inflated bytes`, async () => {
      const { site, closes } = recordingSite();
      site.addHandler("/echo", Echo, { perMessageDeflate: { threshold: 0 } });
      const text = "compressible ".repeat(100);
      await withSite(site, pair, async (server) => {
        const client = await Client.open(wsUrl(server, "/echo"));
        assert.match(client.extensions, /permessage-deflate/);
        client.send(text);
        assert.equal(await client.next(), text);
        await client.closeAndWait();
        await closes(1);
      });
      assert.deepEqual(site.stats().routes["/echo"], {
        ...ZERO,
        accepted: 1,
        messagesIn: 1,
        bytesIn: text.length,
        messagesOut: 1,
        bytesOut: text.length,
        closeCodes: { 1000: 1 },
      });
    });
  }
}

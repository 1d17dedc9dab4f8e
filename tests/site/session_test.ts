/**
 * The transport and handler contract, on every adapter this runtime offers: what a
 * handler sees and what the peer gets back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CloseInfo } from "../../src/core/connection.ts";
import { resolveLimits } from "../../src/core/limits.ts";
import { type HandlerClass, WebSocketHandler } from "../../src/site/handler.ts";
import type { Link } from "../../src/site/link.ts";
import { Session } from "../../src/site/session.ts";
import { RouteCounters } from "../../src/site/stats.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Topics } from "../../src/site/topics.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client, within } from "../helpers/client.ts";
import { FakeLink } from "../helpers/fake_link.ts";
import { deferred, Echo, pairs, withSite, wsUrl } from "../helpers/server.ts";

const MiB = 1024 * 1024;
/** Sizes around each frame-length encoding boundary, up to several MiB. */
const SIZES = [0, 1, 125, 126, 65535, 65536, 4 * MiB];

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const text = (size: number) => ALPHABET.repeat(Math.ceil(size / ALPHABET.length)).slice(0, size);
const bytes = (size: number, seed: number) => {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
};

/** A site with one handler class at `/ws`, errors collected instead of logged. */
function siteWith(
  handler: HandlerClass,
  errors: unknown[] = [],
): WebSocketSite {
  const site = new WebSocketSite(undefined, { onError: (error) => errors.push(error) });
  site.addHandler("/ws", handler);
  return site;
}

for (const pair of pairs) {
  test(`echo on ${pair.name}: text 0 B to 4 MiB, in order`, async () => {
    await withSite(siteWith(Echo), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      const sent = SIZES.map(text);
      for (const message of sent) client.send(message);
      const received = await client.take(sent.length);
      assert.deepEqual(received.map((message) => message.length), SIZES);
      assert.deepEqual(received, sent);
      assert.deepEqual(await client.closeAndWait(), { code: 1000, reason: "", wasClean: true });
    });
  });

  test(`echo on ${pair.name}: binary 0 B to 4 MiB, in order`, async () => {
    await withSite(siteWith(Echo), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      const sent = SIZES.map((size, i) => bytes(size, i));
      for (const message of sent) client.send(message);
      const received = await client.take(sent.length);
      for (const [i, message] of received.entries()) {
        assert.ok(message instanceof Uint8Array, `message ${i} is binary`);
        assert.deepEqual(message, sent[i], `message ${i} (${SIZES[i]} bytes)`);
      }
      await client.closeAndWait();
    });
  });

  test(`transport.write on ${pair.name}: returns false after close, without throwing`, async () => {
    const results: Record<string, unknown> = {};
    const lost = deferred();
    class CloseThenWrite extends WebSocketHandler {
      override frameReceived(): void {
        this.transport.close(4000, "closing");
        results.afterClose = this.transport.write("late");
        results.bytesAfterClose = this.transport.write(new Uint8Array(3));
        results.isOpen = this.transport.isOpen;
      }
      override connectionLost(): void {
        results.afterLost = this.transport.write("later");
        results.pingAfterLost = this.transport.ping();
        lost.resolve();
      }
    }
    const errors: unknown[] = [];
    await withSite(siteWith(CloseThenWrite, errors), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.send("close please");
      assert.deepEqual(await within(client.closed, "the close"), {
        code: 4000,
        reason: "closing",
        wasClean: true,
      });
      await within(lost.promise, "connectionLost");
      assert.equal(client.pending, 0, "nothing written after close() arrived");
    });
    assert.deepEqual(results, {
      afterClose: false,
      bytesAfterClose: false,
      isOpen: false,
      afterLost: false,
      pingAfterLost: false,
    });
    assert.deepEqual(errors, []);
  });

  test(`transport.close on ${pair.name}: throws RangeError for 999 and a long reason`, async () => {
    class BadClose extends WebSocketHandler {
      override frameReceived(): void {
        const attempts: [number, string][] = [[999, ""], [1005, ""], [1000, "x".repeat(124)]];
        for (const [code, reason] of attempts) {
          try {
            this.transport.close(code, reason);
            this.transport.write(`${code}: no error`);
          } catch (error) {
            this.transport.write(`${code}: ${(error as Error).name}`);
          }
        }
        this.transport.write(`open: ${this.transport.isOpen}`);
      }
    }
    await withSite(siteWith(BadClose), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.send("go");
      assert.deepEqual(await client.take(4), [
        "999: RangeError",
        "1005: RangeError",
        "1000: RangeError",
        "open: true",
      ]);
      await client.closeAndWait();
    });
  });

  test(`connectionLost on ${pair.name}: once, with the client's code, reason and wasClean`, async () => {
    const calls: CloseInfo[] = [];
    const lost = deferred();
    class Recorder extends WebSocketHandler {
      override connectionLost(info: CloseInfo): void {
        calls.push(info);
        this.transport.close(4999, "too late");
        lost.resolve();
      }
    }
    await withSite(siteWith(Recorder), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.close(4001, "bye");
      assert.deepEqual(await within(client.closed, "the close"), {
        code: 4001,
        reason: "bye",
        wasClean: true,
      });
      await within(lost.promise, "connectionLost");
    });
    assert.deepEqual(calls, [{ code: 4001, reason: "bye", wasClean: true }]);
  });

  test(`connectionLost on ${pair.name}: once when the handler closes first`, async () => {
    const calls: CloseInfo[] = [];
    const lost = deferred();
    class Closer extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.close(4002, "done");
      }
      override connectionLost(info: CloseInfo): void {
        calls.push(info);
        lost.resolve();
      }
    }
    await withSite(siteWith(Closer), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      assert.deepEqual(await within(client.closed, "the close"), {
        code: 4002,
        reason: "done",
        wasClean: true,
      });
      await within(lost.promise, "connectionLost");
    });
    assert.deepEqual(calls, [{ code: 4002, reason: "done", wasClean: true }]);
  });

  test(`transport.remoteAddress on ${pair.name}: is 127.0.0.1`, async () => {
    class Address extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.write(String(transport.remoteAddress));
      }
    }
    await withSite(siteWith(Address), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      assert.equal(await client.next(), "127.0.0.1");
      await client.closeAndWait();
    });
  });

  test(`transport.remoteAddress on ${pair.name}: asked first in connectionLost, still 127.0.0.1`, async () => {
    const lost = deferred<string | undefined>();
    class LateAddress extends WebSocketHandler {
      override connectionLost(): void {
        lost.resolve(this.transport.remoteAddress);
      }
    }
    await withSite(siteWith(LateAddress), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      await client.closeAndWait();
      assert.equal(await within(lost.promise, "connectionLost"), "127.0.0.1");
    });
  });

  test(`handler errors on ${pair.name}: 1011 for a throw, a rejection and a throwing constructor`, async () => {
    const errors: unknown[] = [];
    const transports: unknown[] = [];
    class Throws extends WebSocketHandler {
      override frameReceived(): void {
        throw new Error("thrown");
      }
    }
    class Rejects extends WebSocketHandler {
      override async frameReceived(): Promise<void> {
        await Promise.resolve();
        throw new Error("rejected");
      }
    }
    class BadConstructor extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        throw new Error("constructor");
      }
    }
    const site = new WebSocketSite(undefined, {
      onError: (error, transport) => {
        errors.push((error as Error).message);
        transports.push(transport);
      },
    });
    site.addHandler("/echo", Echo);
    site.addHandler("/throws", Throws);
    site.addHandler("/rejects", Rejects);
    site.addHandler("/constructor", BadConstructor);
    await withSite(site, pair, async (server) => {
      const bystander = await Client.open(wsUrl(server, "/echo"));
      const failed = { code: 1011, reason: "Internal error", wasClean: true };
      for (const path of ["/throws", "/rejects"]) {
        const client = await Client.open(wsUrl(server, path));
        client.send("boom");
        assert.deepEqual(await within(client.closed, `${path} closing`), failed, path);
      }
      const client = await Client.open(wsUrl(server, "/constructor"));
      assert.deepEqual(await within(client.closed, "/constructor closing"), failed);
      bystander.send("still here");
      assert.equal(await bystander.next(), "still here");
      await bystander.closeAndWait();
    });
    assert.deepEqual(errors, ["thrown", "rejected", "constructor"]);
    assert.ok(
      transports.every((transport) => transport !== undefined),
      "onError got the transport",
    );
  });

  test(`async frameReceived on ${pair.name}: one message at a time, in order`, async () => {
    const seen: string[] = [];
    let running = 0;
    let mostRunning = 0;
    class Slow extends WebSocketHandler {
      override async frameReceived(frame: string | Uint8Array): Promise<void> {
        running++;
        mostRunning = Math.max(mostRunning, running);
        seen.push(frame as string);
        await new Promise((resolve) => setTimeout(resolve, 1));
        this.transport.write(frame);
        running--;
      }
    }
    await withSite(siteWith(Slow), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      const sent = Array.from({ length: 40 }, (_, i) => `message ${i}`);
      for (const message of sent) client.send(message);
      assert.deepEqual(await client.take(sent.length), sent);
      assert.deepEqual(seen, sent);
      assert.equal(mostRunning, 1);
      await client.closeAndWait();
    });
  });

  test(`transport.drained on ${pair.name}: resolves once a large write has left`, async () => {
    const buffered: number[] = [];
    class Big extends WebSocketHandler {
      override async frameReceived(): Promise<void> {
        this.transport.write(bytes(8 * MiB, 7));
        buffered.push(this.transport.bufferedAmount);
        await this.transport.drained();
        buffered.push(this.transport.bufferedAmount);
        this.transport.write("drained");
      }
    }
    await withSite(siteWith(Big), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.send("go");
      const [big, after] = await client.take(2);
      assert.deepEqual(big, bytes(8 * MiB, 7));
      assert.equal(after, "drained");
      await client.closeAndWait();
    });
    assert.equal(buffered[1], 0, "nothing buffered once drained() resolved");
  });

  test(`transport.ping on ${pair.name}: the client's pong reaches pongReceived`, async () => {
    const pong = deferred<Uint8Array>();
    class Pinger extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        try {
          transport.ping(new Uint8Array([1, 2, 3]));
        } catch (error) {
          transport.write(`${(error as Error).name}: ${(error as Error).message}`);
        }
      }
      override pongReceived(data: Uint8Array): void {
        pong.resolve(data);
      }
    }
    await withSite(siteWith(Pinger), pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      if (pair.adapter === "deno") {
        // Deno has no ping API (see DIFFERENCES.md).
        assert.equal(
          await client.next(),
          "Error: Cannot send a ping: this runtime's WebSocket server has no ping API",
        );
      } else {
        assert.deepEqual(await within(pong.promise, "the pong"), new Uint8Array([1, 2, 3]));
      }
      await client.closeAndWait();
    });
  });

  test(`onUpgrade on ${pair.name}: what it returns is transport.data`, async () => {
    class Greeter extends WebSocketHandler<{ user: string }> {
      constructor(transport: Transport<{ user: string }>) {
        super(transport);
        transport.write(`hello ${transport.data.user}`);
      }
    }
    const site = new WebSocketSite();
    site.addHandler("/ws", Greeter, {
      onUpgrade: (request) => ({ user: new URL(request.url).searchParams.get("user") ?? "" }),
    });
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws?user=ada"));
      assert.equal(await client.next(), "hello ada");
      await client.closeAndWait();
    });
  });
}

/** A session over `link` whose handler holds each message until `release()`. */
/** A session on `link` at route "/ws" with default limits, not started. */
function sessionFor<Data>(link: Link, handler: HandlerClass<Data>, data: Data): Session<Data> {
  return new Session({
    link,
    request: new Request("http://localhost/ws"),
    protocol: "",
    data,
    remoteAddress: undefined,
  }, {
    handler,
    limits: resolveLimits(),
    topics: new Topics(undefined, () => {}),
    onError: () => {},
    onClosed: () => {},
    path: "/ws",
    counters: new RouteCounters(),
  });
}

function slowSession(link: Link) {
  const received: (string | Uint8Array)[] = [];
  let release = () => {};
  class Slow extends WebSocketHandler {
    override frameReceived(frame: string | Uint8Array): Promise<void> {
      received.push(frame);
      return new Promise((resolve) => release = resolve);
    }
  }
  const session = sessionFor(link, Slow, undefined);
  session.start();
  return { session, received, release: () => release() };
}

test("Session copies a queued message that is a small view of a larger read", async () => {
  const { session, received, release } = slowSession(new FakeLink());
  const read = new Uint8Array(64 * 1024).fill(9);
  const small = read.subarray(0, 10);
  const large = read.subarray(0, 40_000);
  session.receive(read.subarray(100, 110));
  session.receive(small);
  session.receive(large);
  assert.equal(received.length, 1, "the first is being handled, two wait");
  for (let i = 0; i < 2; i++) {
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.equal(received.length, 3);
  assert.notEqual((received[1] as Uint8Array).buffer, read.buffer, "10 bytes of 64 KiB: copied");
  assert.deepEqual(received[1], small);
  assert.equal((received[2] as Uint8Array).buffer, read.buffer, "most of the read: kept");
});

test("Session pauses reading when empty messages fill the receive queue", () => {
  const link = new FakeLink();
  const { session } = slowSession(link);
  const empty = new Uint8Array(0);
  const paused = () => link.calls.includes("pause");
  let count = 0;
  for (; count < 200_000 && !paused(); count++) session.receive(count % 2 ? "" : empty);
  assert.equal(paused(), true, `still reading after ${count} empty messages`);
  // Each waiting message counts for what it costs besides its bytes (512).
  const limit = resolveLimits().maxReceiveQueueBytes;
  assert.ok(count <= limit / 512 + 2, `paused after ${count}`);
});

test("Session.start(true) remakes the handler without its constructor or field initialisers", () => {
  let constructed = 0;
  const heard: string[] = [];
  class Greeter extends WebSocketHandler<{ name: string }> {
    greeted = true;
    constructor(transport: Transport<{ name: string }>) {
      super(transport);
      constructed++;
      transport.write(`hello ${transport.data.name}`);
    }
    override frameReceived(message: string | Uint8Array): void {
      heard.push(`${this.transport.data.name} ${String(message)} ${String(this.greeted)}`);
    }
  }
  const link = new FakeLink();
  const session = sessionFor(link, Greeter, { name: "ada" });
  session.start(true);
  assert.equal(constructed, 0);
  assert.deepEqual(link.sent, []);
  session.receive("hi");
  assert.deepEqual(heard, ["ada hi undefined"]);
});

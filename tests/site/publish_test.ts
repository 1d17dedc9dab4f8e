/**
 * Topics on every adapter this runtime offers: subscribe, publish, unsubscribe, `except`,
 * `transport.publish`, unsubscribing on close, a thousand subscribers, and a slow reader.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { constants, createInflateRaw } from "node:zlib";
import { Buffer } from "node:buffer";
import { Opcode } from "../../src/core/constants.ts";
import type { CloseInfo } from "../../src/core/connection.ts";
import { buildFrame } from "../../src/core/frame.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client, RawClient, upgradeRequest, within } from "../helpers/client.ts";
import { deferred, type Pair, pairs, withSite, wsUrl } from "../helpers/server.ts";

const KiB = 1024;
const encoder = new TextEncoder();

/** The members of a room: transports by the id each was greeted with. */
function room(site: WebSocketSite) {
  const members = new Map<number, Transport>();
  const lost = new Map<number, CloseInfo>();
  const allLost = deferred();
  let expectedLost = Infinity;
  let nextId = 0;

  /**
   * Subscribes to `?topic=` (default "room") and greets with its id; then obeys text
   * commands ("leave", "join", "subscribed?", "mixed"), and publishes anything else to
   * the others.
   */
  class Member extends WebSocketHandler {
    readonly id = nextId++;
    readonly topic = new URL(this.transport.request.url).searchParams.get("topic") ?? "room";

    constructor(transport: Transport) {
      super(transport);
      members.set(this.id, transport);
      transport.subscribe(this.topic);
      transport.write(`id ${this.id}`);
    }

    override frameReceived(frame: string | Uint8Array): void {
      const transport = this.transport;
      if (frame === "leave") {
        transport.unsubscribe(this.topic);
        transport.write("left");
      } else if (frame === "join") {
        transport.subscribe(this.topic);
        transport.write("joined");
      } else if (frame === "subscribed?") {
        transport.write(String(transport.isSubscribed(this.topic)));
      } else if (frame === "mixed") {
        transport.write("before");
        site.publish(this.topic, "published");
        transport.write("after");
      } else {
        transport.publish(this.topic, frame);
      }
    }

    override connectionLost(info: CloseInfo): void {
      lost.set(this.id, info);
      if (lost.size >= expectedLost) allLost.resolve();
    }
  }

  /** Resolves once `count` connections have been lost in all. */
  const lostCount = (count: number) => {
    expectedLost = count;
    if (lost.size >= count) allLost.resolve();
    return within(allLost.promise, `${count} connectionLost calls`);
  };
  return { Member, members, lost, lostCount };
}

/** A client with the id its server-side transport greeted it with. */
async function join(url: string): Promise<{ client: Client; id: number }> {
  const client = await Client.open(url);
  const greeting = await client.next();
  assert.match(String(greeting), /^id \d+$/);
  return { client, id: Number(String(greeting).slice(3)) };
}

/** Asserts `client`'s next message is a marker written to it now: nothing came before. */
async function assertNothingPending(client: Client, transport: Transport): Promise<void> {
  transport.write("marker");
  assert.equal(await client.next(), "marker");
}

function roomSite(pair: Pair) {
  const site = new WebSocketSite();
  const state = room(site);
  site.addHandler("/room", state.Member);
  return { site, ...state, pair };
}

for (const pair of pairs) {
  test(`site.publish() on ${pair.name}: text and bytes reach the topic's subscribers only`, async () => {
    const { site, members } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const a = await join(wsUrl(server, "/room"));
      const b = await join(wsUrl(server, "/room"));
      const other = await join(wsUrl(server, "/room?topic=elsewhere"));
      assert.equal(site.subscriberCount("room"), 2);
      site.publish("room", "hello");
      site.publish("room", new Uint8Array([0, 1, 255]));
      site.publish("room", new Uint8Array([]).buffer);
      site.publish("nobody", "lost");
      for (const { client } of [a, b]) {
        assert.deepEqual(await client.take(3), [
          "hello",
          new Uint8Array([0, 1, 255]),
          new Uint8Array([]),
        ]);
      }
      await assertNothingPending(other.client, members.get(other.id)!);
      for (const { client } of [a, b, other]) await client.closeAndWait();
    });
  });

  test(`site.publish() on ${pair.name}: except skips one transport or a list`, async () => {
    const { site, members } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const [a, b, c] = [
        await join(wsUrl(server, "/room")),
        await join(wsUrl(server, "/room")),
        await join(wsUrl(server, "/room")),
      ];
      site.publish("room", "not a", { except: members.get(a.id)! });
      site.publish("room", "only b", { except: [members.get(a.id)!, members.get(c.id)!] });
      assert.deepEqual(await b.client.take(2), ["not a", "only b"]);
      assert.equal(await c.client.next(), "not a");
      await assertNothingPending(a.client, members.get(a.id)!);
      await assertNothingPending(c.client, members.get(c.id)!);
      for (const { client } of [a, b, c]) await client.closeAndWait();
    });
  });

  test(`transport.publish() on ${pair.name}: every subscriber but the sender`, async () => {
    const { site, members } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const [a, b, c] = [
        await join(wsUrl(server, "/room")),
        await join(wsUrl(server, "/room")),
        await join(wsUrl(server, "/room")),
      ];
      a.client.send("from a");
      a.client.send(new Uint8Array([7]));
      assert.deepEqual(await b.client.take(2), ["from a", new Uint8Array([7])]);
      assert.deepEqual(await c.client.take(2), ["from a", new Uint8Array([7])]);
      await assertNothingPending(a.client, members.get(a.id)!);
      for (const { client } of [a, b, c]) await client.closeAndWait();
    });
  });

  test(`publish inside frameReceived on ${pair.name}: ordered with the handler's writes`, async () => {
    const { site } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const a = await join(wsUrl(server, "/room"));
      const b = await join(wsUrl(server, "/room"));
      a.client.send("mixed");
      assert.deepEqual(await a.client.take(3), ["before", "published", "after"]);
      assert.equal(await b.client.next(), "published");
      for (const { client } of [a, b]) await client.closeAndWait();
    });
  });

  test(`unsubscribe and isSubscribed on ${pair.name}`, async () => {
    const { site, members } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const a = await join(wsUrl(server, "/room"));
      const b = await join(wsUrl(server, "/room"));
      b.client.send("leave");
      assert.equal(await b.client.next(), "left");
      b.client.send("subscribed?");
      assert.equal(await b.client.next(), "false");
      assert.equal(site.subscriberCount("room"), 1);
      site.publish("room", "without b");
      assert.equal(await a.client.next(), "without b");
      await assertNothingPending(b.client, members.get(b.id)!);
      b.client.send("join");
      assert.equal(await b.client.next(), "joined");
      b.client.send("subscribed?");
      assert.equal(await b.client.next(), "true");
      site.publish("room", "with b");
      assert.equal(await a.client.next(), "with b");
      assert.equal(await b.client.next(), "with b");
      for (const { client } of [a, b]) await client.closeAndWait();
    });
  });

  test(`closing on ${pair.name}: subscriptions end by themselves`, async () => {
    const { site, lost, lostCount } = roomSite(pair);
    await withSite(site, pair, async (server) => {
      const a = await join(wsUrl(server, "/room"));
      const b = await join(wsUrl(server, "/room"));
      const c = await join(wsUrl(server, "/room?topic=side"));
      assert.equal(site.subscriberCount("room"), 2);
      await b.client.closeAndWait();
      await c.client.closeAndWait();
      await lostCount(2);
      assert.deepEqual([...lost.keys()].sort(), [b.id, c.id].sort());
      assert.equal(site.subscriberCount("room"), 1);
      assert.equal(site.subscriberCount("side"), 0);
      site.publish("room", "still here");
      assert.equal(await a.client.next(), "still here");
      await a.client.closeAndWait();
    });
  });
}

/** A raw subscriber that collects every byte after the 101 response. */
class Collector {
  readonly #socket: Socket;
  /** The response head so far, until it is complete. */
  #head: number[] | undefined = [];
  #chunks: Uint8Array[] = [];
  #length = 0;
  #want = Infinity;
  #done = deferred();

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  static open(port: number, path: string): Promise<Collector> {
    return within(
      new Promise<Collector>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        const collector = new Collector(socket);
        socket.once("error", reject);
        socket.on("data", (chunk: Uint8Array) => {
          if (collector.#onData(chunk)) resolve(collector);
        });
        socket.once("connect", () => socket.write(upgradeRequest(path)));
      }),
      `a raw subscriber to port ${port}`,
    );
  }

  /** Resolves with exactly `length` bytes, once that many have arrived after the head. */
  async bytes(length: number): Promise<Uint8Array> {
    this.#want = length;
    if (this.#length >= length) this.#done.resolve();
    await within(this.#done.promise, `${length} bytes`);
    const all = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Returns whether this chunk completed the response head. */
  #onData(chunk: Uint8Array): boolean {
    const head = this.#head;
    let completed = false;
    if (head !== undefined) {
      let i = 0;
      while (i < chunk.length && !headEnded(head)) head.push(chunk[i++]);
      if (!headEnded(head)) return false;
      assert.match(String.fromCharCode(...head), /^HTTP\/1\.1 101 /);
      this.#head = undefined;
      chunk = chunk.subarray(i);
      completed = true;
    }
    if (chunk.length > 0) {
      this.#chunks.push(chunk.slice());
      this.#length += chunk.length;
    }
    if (this.#length >= this.#want) this.#done.resolve();
    return completed;
  }
}

/** Whether a response head ends here, with an empty line. */
function headEnded(head: number[]): boolean {
  const n = head.length;
  return n >= 4 && head[n - 4] === 13 && head[n - 3] === 10 && head[n - 2] === 13 &&
    head[n - 1] === 10;
}

const SUBSCRIBERS = 1000;
const MESSAGES = 20;

for (const pair of pairs) {
  test(`${SUBSCRIBERS} subscribers on ${pair.name}: each gets ${MESSAGES} messages, in order`, async () => {
    const site = new WebSocketSite();
    let opened = 0;
    let closed = 0;
    const allOpen = deferred();
    const allClosed = deferred();
    class Subscriber extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.subscribe("news");
        if (++opened === SUBSCRIBERS) allOpen.resolve();
      }
      override connectionLost(): void {
        if (++closed === SUBSCRIBERS) allClosed.resolve();
      }
    }
    site.addHandler("/news", Subscriber);
    await withSite(site, pair, async (server) => {
      const collectors: Collector[] = [];
      try {
        for (let batch = 0; batch < SUBSCRIBERS / 100; batch++) {
          collectors.push(
            ...await Promise.all(
              Array.from({ length: 100 }, () => Collector.open(server.port, "/news")),
            ),
          );
        }
        await within(allOpen.promise, "every subscriber's handler");
        assert.equal(site.subscriberCount("news"), SUBSCRIBERS);
        const messages = Array.from(
          { length: MESSAGES },
          (_, i) => i % 2 === 0 ? `message ${i}` : new Uint8Array([i, 255 - i, i]),
        );
        for (const message of messages) site.publish("news", message);
        const expected = messages.map((message) =>
          typeof message === "string"
            ? buildFrame(Opcode.Text, encoder.encode(message))
            : buildFrame(Opcode.Binary, message)
        );
        const length = expected.reduce((sum, frame) => sum + frame.length, 0);
        const wire = new Uint8Array(length);
        expected.reduce((offset, frame) => (wire.set(frame, offset), offset + frame.length), 0);
        for (const collector of collectors) {
          assert.deepEqual(await collector.bytes(length), wire);
        }
      } finally {
        for (const collector of collectors) collector.destroy();
      }
      await within(allClosed.promise, "every connectionLost");
      assert.equal(site.subscriberCount("news"), 0);
    });
  });

  test(`a slow subscriber on ${pair.name}: closed with 1008, the others get every message`, async () => {
    const limits = { maxSendBufferBytes: 512 * KiB, sendPauseBytes: 64 * KiB };
    const site = new WebSocketSite();
    const lost = deferred<CloseInfo>();
    const transports: Transport[] = [];
    class Subscriber extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transports.push(transport);
        transport.subscribe("feed");
        transport.write("ready");
      }
      override connectionLost(info: CloseInfo): void {
        if (this.transport === transports[0]) lost.resolve(info);
      }
    }
    site.addHandler("/feed", Subscriber, { limits });
    await withSite(site, pair, async (server) => {
      const slow = await RawClient.upgraded(server.port, "/feed");
      assert.equal(new TextDecoder().decode((await slow.nextFrame()).payload), "ready");
      slow.pause();
      const fast = await Client.open(wsUrl(server, "/feed"));
      assert.equal(await fast.next(), "ready");
      const [slowTransport] = transports;
      const payload = new Uint8Array(64 * KiB);
      let published = 0;
      let mostBuffered = 0;
      // Each message waits for the fast reader, so only the slow one's buffer grows.
      while (slowTransport.isOpen && published < 2000) {
        payload[0] = published % 256;
        site.publish("feed", payload);
        published++;
        mostBuffered = Math.max(mostBuffered, slowTransport.bufferedAmount);
        const received = await fast.next() as Uint8Array;
        assert.equal(received.length, payload.length);
        assert.equal(received[0], (published - 1) % 256);
      }
      assert.equal(slowTransport.isOpen, false, `still open after ${published} messages`);
      assert.ok(
        mostBuffered <= limits.maxSendBufferBytes + payload.length,
        `the slow reader's buffer reached ${mostBuffered} bytes`,
      );
      slow.destroy();
      assert.deepEqual(await within(lost.promise, "the slow subscriber's connectionLost"), {
        code: 1008,
        reason: "Send buffer overflow",
        wasClean: false,
      });
      assert.equal(site.subscriberCount("feed"), 1);
      site.publish("feed", "after");
      assert.equal(await fast.next(), "after");
      await fast.closeAndWait();
    });
  });
}

/** Inflates one connection's compressed messages in order, with context takeover. */
class Inflater {
  readonly #stream = createInflateRaw();
  readonly #decoder = new TextDecoder();

  /** The text of one compressed message (RFC 7692 §7.2.2: append 00 00 ff ff). */
  async message(payload: Uint8Array): Promise<string> {
    const chunks: Uint8Array[] = [];
    const onData = (chunk: Uint8Array) => chunks.push(chunk);
    this.#stream.on("data", onData);
    this.#stream.write(payload);
    this.#stream.write(new Uint8Array([0, 0, 0xff, 0xff]));
    await new Promise<void>((resolve) => this.#stream.flush(constants.Z_SYNC_FLUSH, resolve));
    this.#stream.off("data", onData);
    return this.#decoder.decode(Buffer.concat(chunks));
  }

  close(): void {
    this.#stream.close();
  }
}

for (const pair of pairs) {
  test(`site.publish() on ${pair.name}: compressed to each subscriber that negotiated it`, async () => {
    const site = new WebSocketSite(undefined, { onError: () => {} });
    const joined = deferred();
    let members = 0;
    class Member extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.subscribe("news");
        if (++members === 3) joined.resolve();
      }
    }
    site.addHandler("/news", Member, { perMessageDeflate: { threshold: 0 } });
    const messages = ["first news, ".repeat(20), "second news, ".repeat(20), "short"];
    await withSite(site, pair, async (server) => {
      const offer = { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
      const clients: { client: RawClient; compressed: boolean }[] = [];
      for (const extra of [offer, offer, {}]) {
        const client = await RawClient.connect(server.port);
        client.write(upgradeRequest("/news", extra));
        const head = await client.responseHead();
        assert.equal(head.status, 101);
        const answer = head.headers.get("sec-websocket-extensions") ?? "";
        // Deno.serve cannot compress (README): its answer has no extension.
        const compressed = extra !== offer || pair.adapter === "deno" ? false : true;
        assert.equal(answer.startsWith("permessage-deflate"), compressed, answer);
        clients.push({ client, compressed });
      }
      await within(joined.promise, "three subscribers");
      for (const message of messages) site.publish("news", message);
      for (const { client, compressed } of clients) {
        const inflater = new Inflater();
        try {
          for (const message of messages) {
            const frame = await client.nextFrame();
            assert.equal(frame.opcode, Opcode.Text);
            assert.equal(frame.rsv, compressed ? 4 : 0, "RSV1 marks a compressed message");
            const text = compressed
              ? await inflater.message(frame.payload)
              : new TextDecoder().decode(frame.payload);
            assert.equal(text, message);
          }
        } finally {
          inflater.close();
          client.destroy();
        }
      }
    });
  });
}

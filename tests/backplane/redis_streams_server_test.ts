/**
 * Three wsport processes sharing topics through `RedisStreamsBackplane` on a real
 * `redis-server` (persisting to an append-only file), while a client publishes numbered
 * messages and Redis is killed and started again, Redis is paused, or one wsport process
 * is paused: every subscriber ends with every number, once, in order. And when Redis
 * trimmed what a paused process missed, it says so. In one process, three backplanes on
 * one Redis: each decodes only the partitions of its topics, and a partition started
 * while a read waits is read at once. Skipped when `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { test } from "node:test";
import { createClient } from "redis";
import type { Child } from "../helpers/child.ts";
import { streamPartition } from "../../src/backplane/stream_partition.ts";
import { type Client, within } from "../helpers/client.ts";
import { freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { connectBackplane, type ConnectedBackplane } from "../helpers/redis_backplane.ts";
import { pairs } from "../helpers/server.ts";
import { join, startSite } from "./sites.ts";

/** How many numbered messages the publisher sends, one every `GAP_MS`. */
const COUNT = 150;
const GAP_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Redis with its data on disk, three wsport processes on it, and clients in the room. */
async function cluster(env: Record<string, string> = {}) {
  const dir = await mkdtemp(joinPath(tmpdir(), "wsport-streams-"));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const world = {
    redis: await startRedis(port, dir),
    sites: [] as Child[],
    clients: [] as Client[],
    restartRedis: async () => world.redis = await startRedis(port, dir),
    close: async () => {
      // Whatever a failed test left paused goes on, so that it can stop.
      for (const child of [world.redis, ...world.sites]) child.signal("SIGCONT");
      try {
        for (const client of world.clients) await client.closeAndWait().catch(() => {});
        await Promise.all(world.sites.map((site) => site.stop("SIGKILL")));
      } finally {
        await world.redis.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    const adapter = pairs[0].adapter;
    const settings = { WSPORT_BACKPLANE: "streams", ...env };
    world.sites.push(...await Promise.all([0, 1, 2].map(() => startSite(adapter, url, settings))));
    await Promise.all(world.sites.map((site) => site.printed("status up")));
    // The publisher, then a subscriber on each process (the publisher's own included).
    for (const site of [world.sites[0], ...world.sites]) world.clients.push(await join(site));
    // Each process reads the room's partition once it knows where it ends.
    await readers(url, world.sites.length);
  } catch (error) {
    await world.close();
    throw error;
  }
  return world;
}

/** Resolves once `count` connections of the Redis at `url` wait in `XREAD BLOCK` (3 s bound). */
async function readers(url: string, count: number): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for (let i = 0; i < 300; i++) {
      const list = String(await client.sendCommand(["CLIENT", "LIST"]));
      if (list.split("\n").filter((line) => line.includes("cmd=xread")).length >= count) return;
      await sleep(10);
    }
    throw new Error(`${count} processes never read the stream`);
  } finally {
    await client.destroy();
  }
}

/** Sends 1 to `COUNT`, running `outage` from a quarter of the way. */
async function sendNumbers(publisher: Client, outage: () => Promise<void>): Promise<void> {
  let outageDone: Promise<void> = Promise.resolve();
  for (let i = 1; i <= COUNT; i++) {
    publisher.send(String(i));
    if (i === Math.floor(COUNT / 4)) outageDone = outage();
    await sleep(GAP_MS);
  }
  await outageDone;
}

/** Up to `count` messages, as many as come within 10 s. */
async function collect(client: Client, count: number): Promise<string[]> {
  const got: string[] = [];
  try {
    while (got.length < count) got.push(String(await client.next()));
  } catch {
    // What came is what the assertion shows.
  }
  return got;
}

/** What every process printed, for a failure's message. */
function outputs(world: { sites: Child[] }): string {
  return world.sites.map((site, i) => `site ${i}:\n${site.output}`).join("\n");
}

const numbers = Array.from({ length: COUNT }, (_, i) => String(i + 1));

const outages: [string, (world: Awaited<ReturnType<typeof cluster>>) => Promise<void>][] = [
  ["redis-server is killed (SIGKILL) and started again on its data", async (world) => {
    await world.redis.kill("SIGKILL");
    await Promise.all(world.sites.map((site) => site.printed("status down")));
    await sleep(300);
    await world.restartRedis();
  }],
  ["redis-server is paused (SIGSTOP) for a second", async (world) => {
    world.redis.signal("SIGSTOP");
    await Promise.all(world.sites.map((site) => site.printed("status down")));
    await sleep(700);
    world.redis.signal("SIGCONT");
  }],
  ["one wsport process is paused (SIGSTOP) for a second", async (world) => {
    world.sites[1].signal("SIGSTOP");
    await sleep(1_000);
    world.sites[1].signal("SIGCONT");
  }],
];

for (const [name, outage] of outages) {
  test(
    `RedisStreamsBackplane: every subscriber gets every number once, in order, while ${name}`,
    { skip: redisSkip },
    async () => {
      const world = await cluster();
      try {
        const [publisher, ...subscribers] = world.clients;
        await sendNumbers(publisher, () => outage(world));
        for (const [i, subscriber] of subscribers.entries()) {
          const got = await collect(subscriber, COUNT);
          assert.deepEqual(got, numbers, `subscriber ${i}; the sites said:\n${outputs(world)}`);
        }
        await sleep(100);
        for (const subscriber of subscribers) assert.equal(subscriber.pending, 0, "no duplicate");
        for (const site of world.sites) {
          assert.doesNotMatch(site.output, /error (Lost|Redis lost)/, site.output);
        }
      } finally {
        await world.close();
      }
    },
  );
}

test(
  "RedisStreamsBackplane reports messages trimmed while its process was paused",
  { skip: redisSkip },
  async () => {
    const world = await cluster({ STREAM_MAXLEN: "20" });
    try {
      const [publisher, here, paused] = world.clients;
      world.sites[1].signal("SIGSTOP");
      for (let i = 1; i <= 60; i++) {
        publisher.send(String(i));
        assert.equal(await here.next(), String(i));
      }
      world.sites[1].signal("SIGCONT");
      await world.sites[1].printed("error Lost ");
      const report = /error (Lost [^\n]*)/.exec(world.sites[1].output)![1];
      assert.match(
        report,
        /^Lost (\d+) messages of stream "wsport:stream:\{\d+\}" that Redis trimmed before this process read them: after id \d+-\d+, before id \d+-\d+$/,
      );
      // What it did get is the stream's last 20 (and any it read before pausing), in order.
      const got: string[] = [];
      while (got.at(-1) !== "60") got.push(String(await paused.next()));
      assert.deepEqual(got.slice(-20), numbers.slice(40, 60));
      assert.equal(got.length, 60 - Number(/^Lost (\d+)/.exec(report)![1]), "counted right");
      assert.deepEqual(got, [...got].sort((a, b) => Number(a) - Number(b)));
      assert.equal(new Set(got).size, got.length);
    } finally {
      await world.close();
    }
  },
);

test(
  "RedisStreamsBackplane: a client that leaves one process and comes back to another since its last id gets the rest once",
  { skip: redisSkip },
  async () => {
    const world = await cluster({ ENCODE_IDS: "1" });
    try {
      const [publisher, , leaving] = world.clients;
      const seen: string[] = [];
      for (let i = 1; i <= 5; i++) {
        publisher.send(String(i));
        seen.push(String(await leaving.next()));
      }
      await leaving.closeAndWait();
      for (let i = 6; i <= 10; i++) publisher.send(String(i));
      // Every process delivered 6 to 10 (the publisher's own subscriber shows when).
      const own = world.clients[1];
      const ownSeen = (await own.take(10)).map(String);
      assert.deepEqual(ownSeen.map((message) => message.split(" ")[1]), numbers.slice(0, 10));
      const since = seen[4].split(" ")[0];
      const back = await join(world.sites[2], since);
      world.clients.push(back);
      const replayed = (await back.take(5)).map(String);
      assert.equal(await back.next(), "joined");
      publisher.send("11");
      const got = [...replayed, String(await back.next())];
      assert.deepEqual(got, [...ownSeen.slice(5), String(await own.next())], "same ids everywhere");
      assert.deepEqual(got.map((message) => message.split(" ")[1]), numbers.slice(5, 11));
      publisher.send("12");
      assert.equal(String(await back.next()).split(" ")[1], "12", "nothing twice");
    } finally {
      await world.close();
    }
  },
);

test(
  "RedisStreamsBackplane: a client back since an id its new process has not read yet gets it once",
  { skip: redisSkip },
  async () => {
    const world = await cluster({ ENCODE_IDS: "1" });
    try {
      const [publisher, , leaving] = world.clients;
      const lagging = world.sites[2];
      publisher.send("1");
      assert.equal(String(await leaving.next()).split(" ")[1], "1");
      // Paused past its read's deadline: once going again, it waits out its backoff (at
      // least 100 ms) before it reads 2, while the client's upgrade, already in its
      // socket, is handled at once.
      lagging.signal("SIGSTOP");
      await sleep(800);
      publisher.send("2");
      const seen = String(await leaving.next());
      assert.equal(seen.split(" ")[1], "2");
      await leaving.closeAndWait();
      const joining = join(lagging, seen.split(" ")[0]);
      await sleep(200);
      lagging.signal("SIGCONT");
      const back = await joining;
      world.clients.push(back);
      assert.equal(await back.next(), "joined", "nothing to replay, nothing missing");
      publisher.send("3");
      assert.equal(String(await back.next()).split(" ")[1], "3", "2 not sent twice");
    } finally {
      await world.close();
    }
  },
);

test(
  "RedisStreamsBackplane on one redis-server: each process decodes only its partitions, and reads a new one at once",
  { skip: redisSkip },
  async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    const members: (ConnectedBackplane & { received: string[]; errors: unknown[] })[] = [];
    // Four topics, each in a partition of its own.
    const topics: string[] = [];
    for (let i = 0, seen = new Set<number>(); topics.length < 4 && i < 1_000; i++) {
      if (!seen.has(streamPartition(`doc:${i}`, 16))) topics.push(`doc:${i}`);
      seen.add(streamPartition(`doc:${i}`, 16));
    }
    const until = (what: string, done: () => boolean) =>
      within(
        new Promise<void>((resolve) => {
          const check = () => done() ? resolve() : setTimeout(check, 10);
          check();
        }),
        what,
        5_000,
      );
    try {
      for (let i = 0; i < 3; i++) {
        const errors: unknown[] = [];
        // A block time far past the waits below: a partition started while a read waits
        // is read at once only if CLIENT UNBLOCK ends that read.
        const connected = await connectBackplane(`redis://127.0.0.1:${port}`, "streams", {
          probeIntervalMs: 30_000,
          onError: (error) => errors.push(error),
        });
        const received: string[] = [];
        connected.backplane.onMessage((topic, data) => received.push(`${topic} ${data}`));
        members.push({ ...connected, received, errors });
      }
      // Process i subscribes to topic i; its own message comes back once it reads.
      members.forEach((m, i) => {
        m.backplane.subscribe?.(topics[i]);
        m.backplane.publish(topics[i], "ready");
      });
      await until("all read", () => members.every((m) => m.received.length === 1));
      members[0].backplane.subscribe?.(topics[3]);
      members[0].backplane.publish(topics[3], "ready");
      await until("a new partition, read at once", () => members[0].received.length === 2);
      for (const m of members) m.received.length = 0;
      for (const [from, m] of members.entries()) {
        for (const topic of topics) m.backplane.publish(topic, `from ${from}`);
      }
      const expected = [[topics[0], topics[3]], [topics[1]], [topics[2]]].map((mine) =>
        mine.flatMap((topic) => [0, 1, 2].map((from) => `${topic} from ${from}`)).sort()
      );
      await until(
        "delivered",
        () => members.every((m, i) => m.received.length >= expected[i].length),
      );
      await sleep(100);
      members.forEach((m, i) => {
        assert.deepEqual([...m.received].sort(), expected[i], `process ${i} decoded only its own`);
        assert.deepEqual(m.errors, []);
      });
    } finally {
      await Promise.all(members.map((m) => m.close()));
      await redis.kill("SIGKILL");
    }
  },
);

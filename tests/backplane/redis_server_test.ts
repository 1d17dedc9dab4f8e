/**
 * Two wsport processes sharing topics through a real `redis-server`, which is stopped and
 * started again mid-test, on every adapter this runtime offers. Skipped when
 * `redis-server` is not installed (Debian: `apt-get install redis-server`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "node:net";
import { createClient } from "redis";
import type { RedisBackplane } from "../../src/backplane/redis.ts";
import { type Client, within } from "../helpers/client.ts";
import type { Child } from "../helpers/child.ts";
import { freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { connectBackplane, type ConnectedBackplane } from "../helpers/redis_backplane.ts";
import { pairs } from "../helpers/server.ts";
import { join, startSite } from "./sites.ts";

for (const pair of pairs) {
  test(
    `two processes on ${pair.name} share topics through redis-server, across its restart`,
    { skip: redisSkip },
    async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      let redis = await startRedis(port);
      const sites: Child[] = [];
      const clients: Client[] = [];
      try {
        sites.push(
          ...await Promise.all([startSite(pair.adapter, url), startSite(pair.adapter, url)]),
        );
        await Promise.all(sites.map((site) => site.printed("status up")));
        const [a, local] = [await join(sites[0]), await join(sites[0])];
        const b = await join(sites[1]);
        clients.push(a, local, b);
        // A process gets a topic's messages once Redis confirmed its subscription.
        await subscribers(url, "wsport:room", 2);

        // Across processes once, never back to the sender, text and bytes alike.
        a.send("one");
        a.send(new Uint8Array([1, 2, 255]));
        assert.deepEqual(await b.take(2), ["one", new Uint8Array([1, 2, 255])]);
        assert.deepEqual(await local.take(2), ["one", new Uint8Array([1, 2, 255])]);
        b.send("two");
        assert.equal(await a.next(), "two", "a got nothing of its own before");
        assert.equal(await local.next(), "two", "local got a's messages once");
        a.send("three");
        assert.equal(await b.next(), "three", "b got a's messages once and not its own");
        assert.equal(await local.next(), "three");

        // Redis stops: each process says so, and delivers inside itself meanwhile.
        // A probe late under load may have said "down" before: wait for the next one.
        const downs = sites.map((site) => site.output.split("status down").length - 1);
        const ups = sites.map((site) => site.output.split("status up").length - 1);
        await redis.kill("SIGTERM");
        await Promise.all(sites.map((site, i) => site.printed("status down", downs[i] + 1)));
        a.send("while down");
        assert.equal(await local.next(), "while down");

        // Redis is back: across processes again, and nothing stale comes through.
        redis = await startRedis(port);
        await Promise.all(sites.map((site, i) => site.printed("status up", ups[i] + 1)));
        a.send("after restart");
        assert.equal(await b.next(), "after restart");
        assert.equal(await local.next(), "after restart");
        b.send("four");
        assert.equal(await a.next(), "four");
        assert.equal(await local.next(), "four");
        a.send("five");
        assert.equal(await b.next(), "five", "b got each message once");
      } finally {
        for (const client of clients) await client.closeAndWait();
        await Promise.all(sites.map((site) => site.stop()));
        await redis.kill("SIGTERM");
      }
    },
  );
}

/** Resolves once `count` connections subscribe to `channel` on the Redis at `url`. */
async function subscribers(url: string, channel: string, count: number): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for (let i = 0; i < 300; i++) {
      if (Object.values(await client.pubSubNumSub(channel))[0] === count) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${channel} never had ${count} subscribers`);
  } finally {
    await client.destroy();
  }
}

/** One RESP command, as a raw client writes it: an array of bulk strings. */
function resp(...args: string[]): string {
  const bulk = args.map((arg) => `$${new TextEncoder().encode(arg).length}\r\n${arg}\r\n`);
  return `*${args.length}\r\n${bulk.join("")}`;
}

test(
  "RedisBackplane skips a malformed message between two valid ones in one batch, and reports it",
  { skip: redisSkip },
  async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    let connected: ConnectedBackplane | undefined;
    try {
      const errors: Error[] = [];
      const received: [string, string | Uint8Array][] = [];
      let changed = () => {};
      const until = (what: string, done: () => boolean) =>
        within(
          new Promise<void>((resolve) => {
            changed = () => done() && resolve();
            changed();
          }),
          what,
          3_000,
        );
      connected = await connectBackplane(`redis://127.0.0.1:${port}`, "pubsub", {
        channel: "app-one",
        probeIntervalMs: 200,
        onStatus: () => changed(),
        onError: (error) => {
          errors.push(error as Error);
          changed();
        },
      });
      const backplane = connected.backplane as RedisBackplane;
      backplane.onMessage((topic, data) => {
        received.push([topic, data]);
        changed();
      });
      await until("status up", () => backplane.status === "up");
      backplane.subscribe("room");
      await subscribers(`redis://127.0.0.1:${port}`, "app-one:room", 1);

      // Three PUBLISH commands in one write: Redis sends the three messages together.
      const raw = connect(port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => {
        raw.once("error", reject);
        raw.once("connect", resolve);
      });
      raw.write(
        resp("PUBLISH", "app-one:room", '[1,"raw","t","room"]\nfirst') +
          resp("PUBLISH", "app-one:room", '[1,"raw","b","room"]\n%% not base64 %%') +
          resp("PUBLISH", "app-one:room", '[1,"raw","b","room"]\nAQL/'),
      );
      await until("both valid messages", () => received.length >= 2);
      raw.destroy();
      assert.deepEqual(received, [["room", "first"], ["room", new Uint8Array([1, 2, 255])]]);
      assert.equal(errors.length, 1, String(errors));
      assert.equal(
        errors[0].message,
        'Skipped a malformed message on the channels of "app-one": its payload is not base64: ' +
          JSON.stringify('[1,"raw","b","room"]\n%% not base64 %%'),
      );
      assert.deepEqual(connected.clientErrors, []);
    } finally {
      await connected?.close();
      await redis.kill("SIGTERM");
    }
  },
);

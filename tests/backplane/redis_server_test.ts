/**
 * Two wsport processes sharing topics through a real `redis-server`, which is stopped and
 * started again mid-test, on every adapter this runtime offers. Skipped when
 * `redis-server` is not installed (Debian: `apt-get install redis-server`).
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import type { AdapterName } from "../../src/adapters/server.ts";
import { Client } from "../helpers/client.ts";
import { Child, freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { pairs, runtime } from "../helpers/server.ts";

/** Starts a wsport process (`redis_site.ts`) on `adapter`, in this runtime. */
async function startSite(adapter: AdapterName, redisUrl: string): Promise<Child> {
  const script = "tests/backplane/redis_site";
  const command = runtime === "deno"
    ? [process.execPath, "run", "--allow-all", `${script}.ts`]
    : runtime === "bun"
    ? [process.execPath, `${script}.ts`]
    : [process.execPath, `.build/${script}.js`];
  const child = new Child(command, { REDIS_URL: redisUrl, WSPORT_ADAPTER: adapter });
  await child.printed("serving ");
  return child;
}

/** A client in the room of the site that `child` serves; resolves once it joined. */
async function join(child: Child): Promise<Client> {
  const port = /serving (\d+)/.exec(child.output)![1];
  const client = await Client.open(`ws://127.0.0.1:${port}/room`);
  assert.equal(await client.next(), "joined");
  return client;
}

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
        await redis.kill("SIGTERM");
        await Promise.all(sites.map((site) => site.printed("status down")));
        a.send("while down");
        assert.equal(await local.next(), "while down");

        // Redis is back: across processes again, and nothing stale comes through.
        redis = await startRedis(port);
        await Promise.all(sites.map((site) => site.printed("status up", 2)));
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

/**
 * The cluster example: two chat workers on one port sharing rooms through a real
 * `redis-server`. Skipped when `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { Client } from "../helpers/client.ts";
import { line } from "./chat_line.ts";
import { Child } from "../helpers/child.ts";
import { freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { runtime } from "../helpers/server.ts";
import { createClient } from "redis";

/** Clients opened at most while waiting for both workers to have one. */
const MAX_CLIENTS = 40;

/** The command that runs the cluster example in this runtime. */
function clusterCommand(): string[] {
  if (runtime === "deno") {
    return [process.execPath, "run", "--allow-all", "--unstable-net", "examples/cluster.ts"];
  }
  if (runtime === "bun") return [process.execPath, "examples/cluster.ts"];
  return [process.execPath, ".build/examples/cluster.js"];
}

test(
  `the cluster example on ${runtime}: clients of both workers share a room`,
  { skip: redisSkip },
  async () => {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    let cluster: Child | undefined;
    const clients: Client[] = [];
    try {
      cluster = new Child(clusterCommand(), {
        env: {
          WORKERS: "2",
          PORT: "0",
          HOST: "127.0.0.1",
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        },
      });
      await cluster.printed("redis backplane: up", 2);
      await cluster.printed("serving http://localhost:", 2);
      const port = /workers on port (\d+)/.exec(cluster.output)![1];
      // The kernel (or node:cluster) picks each client's worker, and each worker logs
      // the name of a client it takes: open clients until both workers have some.
      const workers = new Set<string>();
      while (workers.size < 2) {
        assert.ok(clients.length < MAX_CLIENTS, `all ${MAX_CLIENTS} clients on one worker`);
        const client = await Client.open(`ws://127.0.0.1:${port}/chat?room=r`);
        const joined = /^(guest-\d+) joined r$/.exec(await line(client));
        assert.ok(joined, "a client's first message says it joined");
        clients.push(client);
        await cluster.printed(`${joined[1]} connected to process `);
        for (const line of cluster.output.matchAll(/(guest-\d+) connected to process (\d+)/g)) {
          if (line[1] === joined[1]) workers.add(line[2]);
        }
      }
      // Interest routing: each worker receives the room once Redis confirmed its subscription.
      await channelWithTwoSubscribers(redisPort);
      const CLIENTS = clients.length;
      clients.forEach((client, i) => client.send(`hello ${i}`));
      for (const client of clients) {
        const heard = new Set<number>();
        while (heard.size < CLIENTS) {
          const message = await line(client);
          const hello = /^guest-\d+: hello (\d+)$/.exec(message);
          if (hello === null) {
            assert.match(message, /^guest-\d+ joined r$/);
            continue;
          }
          assert.equal(heard.has(Number(hello[1])), false, `"${message}" came twice`);
          heard.add(Number(hello[1]));
        }
      }
    } finally {
      for (const client of clients) await client.closeAndWait();
      await cluster?.kill("SIGTERM");
      await redis.kill("SIGTERM");
    }
  },
);

/** Waits until some channel on the Redis at `port` has two subscribers: both workers'. */
async function channelWithTwoSubscribers(port: number): Promise<void> {
  const redis = createClient({ url: `redis://127.0.0.1:${port}` });
  await redis.connect();
  try {
    for (let i = 0; i < 300; i++) {
      for (const channel of await redis.pubSubChannels()) {
        if (Object.values(await redis.pubSubNumSub(channel))[0] === 2) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("no channel ever had both workers subscribed");
  } finally {
    await redis.destroy();
  }
}

/**
 * `RedisBackplane` with `sharded: true` on a real Redis Cluster (three masters, three
 * replicas, made by the test), through node-redis `createCluster`: topics spread over the
 * masters, each process decodes only its topics, and a master killed mid-stream. Skipped
 * when `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createCluster } from "redis";
import { type BackplaneStatus, RedisBackplane } from "../../src/backplane/redis.ts";
import { clusterSlot } from "../../src/backplane/cluster_slot.ts";
import { topicChannel } from "../../src/backplane/topic_channel.ts";
import { redisSkip } from "../helpers/redis.ts";
import {
  eventually,
  failoverMidStream,
  type RedisCluster,
  startCluster,
} from "../helpers/redis_cluster.ts";

/** A process: its own cluster client and backplane, and what it decoded. */
async function member(port: number) {
  const client = createCluster({
    rootNodes: [{ url: `redis://127.0.0.1:${port}` }],
    // While a node does not answer, look up the topology again every 500 ms (node-redis
    // then moves sharded subscriptions to the replica that took over).
    topologyRefreshOnReconnectionAttemptStrategy: 500,
    defaults: { socket: { reconnectStrategy: () => 100, connectTimeout: 500 } },
  });
  client.on("error", () => {});
  await client.connect();
  const statuses: BackplaneStatus[] = [];
  const errors: unknown[] = [];
  const received: string[] = [];
  const backplane = new RedisBackplane({
    publish: (channel, message) => client.sPublish(channel, message),
    subscribe: (channels, listener) => client.sSubscribe(channels, listener),
    unsubscribe: (channels) => client.sUnsubscribe(channels),
  }, {
    channel: "app",
    sharded: true,
    probeIntervalMs: 300,
    retryMaxMs: 300,
    onStatus: (status) => statuses.push(status),
    onError: (error) => errors.push(error),
  });
  backplane.onMessage((topic, data) => received.push(`${topic} ${data}`));
  return {
    backplane,
    statuses,
    errors,
    received,
    async close() {
      await backplane.close();
      await client.destroy();
    },
  };
}

const TOPICS = Array.from({ length: 30 }, (_, i) => `doc:${i}`);

test("RedisBackplane, sharded on a Redis Cluster: spread, routed, and across a failover", {
  skip: redisSkip,
  timeout: 90_000,
}, async () => {
  let cluster: RedisCluster | undefined;
  const members: Awaited<ReturnType<typeof member>>[] = [];
  try {
    cluster = await startCluster();
    const c = cluster;
    members.push(...await Promise.all([0, 1, 2].map(() => member(c.ports[0]))));
    await eventually("all up", () => members.every((m) => m.backplane.status === "up"));
    // Topics spread: their channels land on all three masters.
    const masters = new Set(
      TOPICS.map((topic) => c.masterOf(clusterSlot(topicChannel("app", topic)))),
    );
    assert.equal(masters.size, 3);

    // Each topic has its subscriber on one process: process i takes doc:k where k % 3 = i.
    TOPICS.forEach((topic, k) => members[k % 3].backplane.subscribe(topic));
    await eventually("subscribed", () =>
      TOPICS.every((topic) => {
        const channel = topicChannel("app", topic);
        const port = c.masterOf(clusterSlot(channel));
        return c.cli(port, "pubsub", "shardnumsub", channel).trim().endsWith("1");
      }));
    for (const publisher of members) {
      for (const topic of TOPICS) {
        publisher.backplane.publish(topic, `from ${members.indexOf(publisher)}`);
      }
    }
    await eventually("delivered", () => members.every((m) => m.received.length >= 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    members.forEach((m, i) => {
      // Only its own topics, from the two other processes: nothing else decoded.
      const expected = TOPICS.filter((_, k) => k % 3 === i).flatMap((topic) =>
        [0, 1, 2].filter((from) => from !== i).map((from) => `${topic} from ${from}`)
      );
      assert.deepEqual([...m.received].sort(), expected.sort(), `process ${i}`);
    });

    // A master killed mid-stream: its replica takes over.
    const topic = "doc:1"; // subscribed on process 1
    members[1].received.length = 0;
    const sent = await failoverMidStream(
      c,
      members,
      topic,
      clusterSlot(topicChannel("app", topic)),
    );
    // Pub/sub is at most once: what went to the dead master is lost, and the loss is
    // reported, naming the probe channels (so the slots) that stopped answering.
    const numbers = members[1].received.map((line) => Number(line.split(" ")[1]));
    assert.deepEqual(numbers, [...numbers].sort((x, y) => x - y), "in order");
    assert.equal(new Set(numbers).size, numbers.length, "at most once");
    assert.ok(members[1].errors.some((error) => /did not echo a probe|ECONN/.test(String(error))));
    console.log(
      `failover: ${sent} published, ${numbers.length} received, ${sent - numbers.length} lost`,
    );
  } finally {
    await Promise.all(members.map((m) => m.close().catch(() => {})));
    await cluster?.stop();
  }
});

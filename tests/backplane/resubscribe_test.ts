/**
 * `RedisBackplane` subscribing again after a real `redis-server` restarts, over bare
 * connections that reconnect but never subscribe again by themselves (node-redis would,
 * hiding a backplane that does not). Skipped when `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BackplaneStatus, RedisBackplane } from "../../src/backplane/redis.ts";
import { within } from "../helpers/client.ts";
import { freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { rawPubSub } from "./raw_redis.ts";

/** A backplane over its own bare connections, with what it reported and received. */
function member(port: number) {
  const connections = rawPubSub(port);
  const statuses: BackplaneStatus[] = [];
  const received: string[] = [];
  const waiters: { until: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const waiter of waiters.filter((waiter) => waiter.until())) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const backplane = new RedisBackplane(connections.redis, {
    probeIntervalMs: 100,
    retryMaxMs: 200,
    onStatus: (status) => {
      statuses.push(status);
      check();
    },
    onError: () => {},
  });
  backplane.subscribe("room");
  backplane.onMessage((topic, data) => {
    received.push(`${topic} ${data}`);
    check();
  });
  /** Resolves once `until()` holds, checked at each status and message. */
  const when = (until: () => boolean, what: string) =>
    within(new Promise<void>((resolve) => (waiters.push({ until, resolve }), check())), what);
  return {
    backplane,
    statuses,
    received,
    /** Resolves once the status has been `status` `count` times in all. */
    reached: (status: BackplaneStatus, count = 1) =>
      when(
        () => statuses.filter((seen) => seen === status).length >= count,
        `status ${status} ×${count}`,
      ),
    receivedCount: (count: number) => when(() => received.length >= count, `${count} messages`),
    async close() {
      await backplane.close();
      connections.close();
    },
  };
}

test(
  "RedisBackplane subscribes again after redis-server restarts",
  { skip: redisSkip },
  async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const [a, b] = [member(port), member(port)];
    try {
      await Promise.all([a.reached("up"), b.reached("up")]);
      a.backplane.publish("room", "before");
      await b.receivedCount(1);

      await redis.kill("SIGTERM");
      await Promise.all([a.reached("down"), b.reached("down")]);

      redis = await startRedis(port);
      // A probe comes back only through a subscription: "up" again means subscribed again.
      await Promise.all([a.reached("up", 2), b.reached("up", 2)]);
      a.backplane.publish("room", "after");
      b.backplane.publish("room", new Uint8Array([1, 2, 3]));
      await Promise.all([b.receivedCount(2), a.receivedCount(1)]);
      assert.deepEqual(b.received, ["room before", "room after"]);
      assert.deepEqual(a.received, ["room 1,2,3"]);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.kill("SIGTERM");
    }
  },
);

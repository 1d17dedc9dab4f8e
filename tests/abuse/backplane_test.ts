/**
 * A hostile publisher on the Redis backplane's channel: anyone who can publish there
 * reaches every subscriber, so malformed messages must be reported through `onError` and
 * skipped, without losing the messages around them or taking the server down. Runs on
 * every adapter when `redis-server` is installed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "redis";
import { topicChannel } from "../../src/backplane/topic_channel.ts";
import { Client } from "../helpers/client.ts";
import { freePort, redisSkip, startRedis } from "../helpers/redis.ts";
import { pairs } from "../helpers/server.ts";
import { BACKPLANE_CHANNEL, MiB } from "./attack_limits.ts";
import { bound, underAttack } from "./harness.ts";

/** A text message on topic "room", as the backplane writes one (format 1). */
const valid = (text: string) => JSON.stringify([1, "attacker", "t", "room"]) + "\n" + text;

/** Malformed messages: no header line, a header that is not JSON, bytes that are not base64. */
const MALFORMED = [
  "no header line",
  "{not json\npayload",
  JSON.stringify([1, "attacker", "b", "room"]) + "\n" + "%%% not base64 %%%",
];

for (const pair of pairs) {
  test(`${pair.name}: malformed messages on the backplane channel are reported and skipped`, {
    skip: redisSkip,
  }, async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const publisher = createClient({ url });
    publisher.on("error", () => {});
    await publisher.connect();
    try {
      const received: string[] = [];
      let reports = 0;
      await underAttack(
        pair,
        "malformed backplane messages",
        bound(MiB, "1 MiB"),
        async (server) => {
          const member = await Client.open(`ws://127.0.0.1:${server.port}/room`);
          assert.equal(await member.next(), "joined");
          // Interest routing: the topic's own channel, once the server has subscribed to it.
          const channel = topicChannel(BACKPLANE_CHANNEL, "room");
          for (let i = 0; i < 300; i++) {
            if (Object.values(await publisher.pubSubNumSub(channel))[0] === 1) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          // Sent without waiting in between, so they reach the subscriber together.
          const messages = [valid("first")];
          for (const [i, malformed] of MALFORMED.entries()) {
            messages.push(malformed, valid(`after ${i + 1}`));
          }
          await Promise.all(
            messages.map((message) => publisher.publish(channel, message)),
          );
          try {
            for (let i = 0; i <= MALFORMED.length; i++) received.push(String(await member.next()));
          } catch {
            // Fewer came: the assertion below says which.
          } finally {
            await member.closeAndWait();
          }
          // The reports come before the messages after them: all are printed by now.
          reports = server.output().split("backplane error").length - 1;
          return {
            release: () => {},
            note: `received ${JSON.stringify(received)}, ${reports} errors reported`,
          };
        },
        { env: { REDIS_URL: url } },
      );
      assert.deepEqual(received, ["first", "after 1", "after 2", "after 3"]);
      assert.equal(reports, MALFORMED.length, "each malformed message reported through onError");
    } finally {
      await publisher.destroy();
      await redis.stop();
    }
  });
}

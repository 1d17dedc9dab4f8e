/**
 * Hostile publishers against what a site keeps for replay: an application that publishes
 * what clients send (as a chat does) keeps their messages, so the attacker sends many,
 * large ones to one topic (past `maxMessages`, which must let go of what it drops) and
 * small ones each to a new topic (what the window holds per message and per topic must
 * be counted, not just the payload). The server's memory must stay within a bound derived
 * from `replay.maxBytes`, whatever the number of messages or topics.
 *
 * The first fill of the window leaves the resident size well above what the heap holds
 * (measured on Deno: +135 to +150 MiB of RSS for +24 MiB of heap after 600,000 topics,
 * pages the runtime keeps after the churn), so the small messages are checked in two
 * steps: the first 600,000 may grow the JavaScript heap by at most `maxBytes`, and
 * 600,000 more (new topics again) must not grow the resident size past the bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Opcode } from "../../src/core/constants.ts";
import { pairs } from "../helpers/server.ts";
import { ATTACK_REPLAY, mib } from "./attack_limits.ts";
import {
  Attacker,
  type AttackServer,
  bound,
  type Held,
  maskedFrame,
  repeated,
  underAttack,
  writeBlocks,
} from "./harness.ts";

/**
 * The window holds at most `maxBytes` as it counts; doubled for what the heap keeps
 * around live objects (pages partly freed as the oldest messages go).
 */
const REPLAY_BOUND = bound(
  2 * ATTACK_REPLAY.maxBytes,
  `2 × replay.maxBytes (${mib(ATTACK_REPLAY.maxBytes)})`,
);

/** Large messages: 64 KiB each, 3,072 of them (192 MiB) on one topic. */
const LARGE = maskedFrame(Opcode.Binary, new Uint8Array(64 * 1024).fill(7));
const LARGE_PER_BLOCK = 16;
const LARGE_BLOCKS = 192;

/** Small messages: 16 bytes of text each, 600,000 of them, each on a topic of its own. */
const SMALL = maskedFrame(Opcode.Text, "0123456789abcdef");
const SMALL_PER_BLOCK = 10_000;
const SMALL_BLOCKS = 60;
const SMALL_COUNT = SMALL_PER_BLOCK * SMALL_BLOCKS;

/** Sends `blocks` blocks of `perBlock` copies of `frame` to `path`, then syncs with a ping. */
async function publishFlood(
  server: AttackServer,
  path: string,
  frame: Uint8Array,
  perBlock: number,
  blocks: number,
): Promise<Held> {
  const client = await Attacker.open(server.port, path);
  const written = await writeBlocks(client.socket, repeated(frame, perBlock), blocks);
  const outcome = await client.synced();
  return {
    release: () => client.destroy(),
    note: `${written * perBlock} messages of ${frame.length} B sent, then ${outcome}`,
  };
}

const releasing = async (held: Promise<Held>) => (await held).release();

for (const pair of pairs) {
  test(`${pair.name}: 3,072 messages of 64 KiB published on one topic keep ${REPLAY_BOUND.formula}`, async () => {
    await underAttack(
      pair,
      "large messages on one topic",
      REPLAY_BOUND,
      (server) => publishFlood(server, "/publish?topics=1", LARGE, LARGE_PER_BLOCK, LARGE_BLOCKS),
      {
        twin: (server) =>
          releasing(publishFlood(server, "/sink", LARGE, LARGE_PER_BLOCK, LARGE_BLOCKS)),
      },
    );
  });

  test(`${pair.name}: 600,000 small messages, each on a new topic, grow the heap by at most replay.maxBytes; 600,000 more keep ${REPLAY_BOUND.formula}`, async () => {
    const flood = (server: AttackServer) =>
      publishFlood(
        server,
        `/publish?topics=${2 * SMALL_COUNT}`,
        SMALL,
        SMALL_PER_BLOCK,
        SMALL_BLOCKS,
      );
    await underAttack(pair, "a topic per message", REPLAY_BOUND, flood, {
      twin: async (server) => {
        await server.settledRss();
        const before = server.heap().heapUsed;
        await releasing(flood(server));
        await server.settledRss();
        const grown = server.heap().heapUsed - before;
        console.log(`[abuse] ${pair.name} a topic per message, first fill: heap +${mib(grown)}`);
        assert.ok(
          grown <= ATTACK_REPLAY.maxBytes,
          `${SMALL_COUNT} topics grew the heap by ${mib(grown)}, past replay.maxBytes`,
        );
      },
    });
  });
}

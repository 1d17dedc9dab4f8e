/**
 * Hostile peers against what the server keeps of what it sends: a stalled peer whose
 * tiny pongs pin the shared output arena, and a ping flood from a peer that never reads.
 * Each runs against the attack server (see `README.md`), which must keep its memory
 * within a bound derived from its limits.
 */
import { test } from "node:test";
import { Opcode } from "../../src/core/constants.ts";
import { pairs } from "../helpers/server.ts";
import { ATTACK_LIMITS, mib } from "./attack_limits.ts";
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

const { maxSendBufferBytes, sendPauseBytes } = ATTACK_LIMITS;

/**
 * A connection that does not drain may hold what waits to be sent up to
 * `maxSendBufferBytes` (then it is closed), and reading stops above `sendPauseBytes`;
 * the echo peer beside it holds at most `sendPauseBytes`. Doubled for allocator slack:
 * 2 × (maxSendBufferBytes + sendPauseBytes).
 */
const OUTPUT_BOUND = bound(
  2 * (maxSendBufferBytes + sendPauseBytes),
  `2 × (maxSendBufferBytes + sendPauseBytes) (${mib(maxSendBufferBytes + sendPauseBytes)})`,
);

/** What waits to be sent to the stalled peer before the attack: below sendPauseBytes. */
const FILL_BYTES = 192 * 1024;

/** Rounds of the arena attack: one pong each, behind ~80 KB of echoes. */
const ARENA_ROUNDS = 2_000;
/** Echoed messages per round: small enough to be copied into the arena, 5 fill more than one. */
const ECHOES_PER_ROUND = 5;
const ECHO_BYTES = 16_000;

/** `ARENA_ROUNDS` rounds of echoes on a fresh connection, each after `everyRound`. */
async function echoRounds(server: AttackServer, everyRound: () => void): Promise<void> {
  const echoing = await Attacker.open(server.port, "/echo");
  const round = repeated(
    maskedFrame(Opcode.Binary, new Uint8Array(ECHO_BYTES)),
    ECHOES_PER_ROUND,
  );
  try {
    for (let i = 1; i <= ARENA_ROUNDS; i++) {
      everyRound();
      echoing.write(round);
      await echoing.messages(i * ECHOES_PER_ROUND);
    }
  } finally {
    echoing.destroy();
  }
}

for (const pair of pairs.filter((pair) => !pair.native)) {
  test(`${pair.name}: a stalled peer's pongs pin no shared output: ${OUTPUT_BOUND.formula}`, async () => {
    await underAttack(pair, "stalled peer pins the arena", OUTPUT_BOUND, async (server) => {
      const stalled = await Attacker.open(server.port, "/fill");
      stalled.pause();
      // Something waits in the stalled peer's send buffer, far below sendPauseBytes: what
      // the server sends it next is queued behind it.
      stalled.write(maskedFrame(Opcode.Text, `fill ${FILL_BYTES}`));
      await server.printed(/filled 1: \d+ bytes wait/, "the stalled peer's buffer to fill");
      const ping = maskedFrame(Opcode.Ping, new Uint8Array(0));
      await echoRounds(server, () => stalled.write(ping));
      return {
        release: () => stalled.destroy(),
        note: `${ARENA_ROUNDS} rounds of one empty ping and ${ECHOES_PER_ROUND} echoes of ` +
          `${ECHO_BYTES} B`,
      };
    }, { twin: (server) => echoRounds(server, () => {}) });
  });
}

/**
 * A flood of `blocks` × 10,000 pings of `size` bytes from a peer that reads (the harmless
 * twin: its pongs leave) or never does; the server may stop reading it (that is the
 * point), so pushing stops after 1 s without progress.
 */
async function pingFlood(
  server: AttackServer,
  size: number,
  reading: boolean,
  blocks = size === 0 ? 50 : 10,
): Promise<Held> {
  const blockPings = 10_000;
  const client = await Attacker.open(server.port, "/echo");
  if (!reading) client.pause();
  const block = repeated(maskedFrame(Opcode.Ping, new Uint8Array(size)), blockPings);
  const written = await writeBlocks(client.socket, block, blocks, 1_000);
  if (reading) await client.synced();
  return {
    release: () => client.destroy(),
    note: `${written * blockPings} pings (${mib(written * block.length)}) written, ` +
      `${client.isEnded ? "then closed by the server" : "connection open"}`,
  };
}

for (const pair of pairs) {
  for (const size of [0, 125]) {
    test(`${pair.name}: a flood of ${size}-byte pings from a peer that never reads: ${OUTPUT_BOUND.formula}`, async () => {
      await underAttack(
        pair,
        `ping flood (${size} B)`,
        OUTPUT_BOUND,
        (server) => pingFlood(server, size, false),
        {
          // The whole flood, read; and a short one, not read, for the paths a full socket takes.
          twin: async (server) => {
            (await pingFlood(server, size, true)).release();
            (await pingFlood(server, size, false, 1)).release();
          },
        },
      );
    });
  }
}

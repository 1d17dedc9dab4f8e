/**
 * Hostile peers against what the server keeps of received data: a message in a million
 * fragments, fragments that pin whole socket reads, empty fragments without end, an
 * async handler's queue of a million tiny messages or of messages pinning reads, and a
 * compressed message that inflates far past the limit. Each runs against the attack
 * server (see `README.md`), which must keep its memory within a bound derived from its
 * limits.
 */
import { test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { Opcode } from "../../src/core/constants.ts";
import { buildFrame } from "../../src/core/frame.ts";
import { KEY } from "../helpers/frames.ts";
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

const { maxMessageBytes, maxReceiveQueueBytes } = ATTACK_LIMITS;

/**
 * A message being received may hold its payload (at most `maxMessageBytes`), and once
 * more while its fragments are joined: 2 × maxMessageBytes, doubled for what a growable
 * buffer may leave unused.
 */
const MESSAGE_BOUND = bound(4 * maxMessageBytes, `4 × maxMessageBytes (${mib(maxMessageBytes)})`);

/**
 * The receive queue of an async handler holds at most `maxReceiveQueueBytes`, and the
 * message being handled at most `maxMessageBytes`; doubled for copies and growth.
 */
const QUEUE_BOUND = bound(
  2 * (maxReceiveQueueBytes + maxMessageBytes),
  `2 × (maxReceiveQueueBytes + maxMessageBytes) (${mib(maxReceiveQueueBytes + maxMessageBytes)})`,
);

/** Frames sent per write, and writes, in the million-frame attacks. */
const BLOCK_FRAMES = 10_000;
const BLOCKS = 100;

/** Unsolicited pongs of 125 bytes after each counted byte: ~64 KiB, one socket read. */
const PONGS_PER_BYTE = 500;
const PONG = maskedFrame(Opcode.Pong, new Uint8Array(125));

/** Fragments (or messages) of one byte sent in the pinning attacks: ~94 MiB on the wire. */
const PINNING_UNITS = 1_500;

/** Pairs where wsport does its own framing: the Node adapter, on every runtime. */
const ownFraming = pairs.filter((pair) => !pair.native);

/**
 * Opens a raw WebSocket to `path`, sends `first` then `block` `blocks` times, and a ping
 * to learn when the server has read it all (or how it ended the connection).
 */
async function flood(
  server: AttackServer,
  path: string,
  first: Uint8Array,
  block: Uint8Array,
  blocks: number,
  what: (written: number) => string,
): Promise<Held> {
  const client = await Attacker.open(server.port, path);
  client.write(first);
  const written = await writeBlocks(client.socket, block, blocks);
  const outcome = await client.synced();
  return { release: () => client.destroy(), note: `${what(written)}, then ${outcome}` };
}

/**
 * One binary message in a million fragments of `size` bytes (one byte: 1,000,000
 * counted, under maxMessageBytes, so no limit on bytes is hit; none: the harmless twin).
 */
const fragments = (server: AttackServer, size: number) =>
  flood(
    server,
    "/echo",
    maskedFrame(Opcode.Binary, new Uint8Array(size), false),
    repeated(maskedFrame(Opcode.Continuation, new Uint8Array(size), false), BLOCK_FRAMES),
    BLOCKS,
    (written) => `${written * BLOCK_FRAMES + 1} fragments of ${size} B sent`,
  );

/**
 * `PINNING_UNITS` times `counted` (a one-byte frame) followed by 500 pongs, after `first`;
 * with no `counted`, the pongs alone (the harmless twin).
 */
function pinning(
  server: AttackServer,
  path: string,
  first: Uint8Array,
  counted?: Uint8Array,
): Promise<Held> {
  const pongs = repeated(PONG, PONGS_PER_BYTE);
  const unit = new Uint8Array((counted?.length ?? 0) + pongs.length);
  if (counted !== undefined) unit.set(counted);
  unit.set(pongs, unit.length - pongs.length);
  return flood(
    server,
    path,
    first,
    unit,
    PINNING_UNITS,
    (written) =>
      `${counted === undefined ? 0 : written} counted bytes in ${mib(written * unit.length)} sent`,
  );
}

const releasing = async (held: Promise<Held>) => (await held).release();

for (const pair of ownFraming) {
  test(`${pair.name}: a message in 1,000,000 one-byte fragments stays within ${MESSAGE_BOUND.formula}`, async () => {
    await underAttack(pair, "tiny fragments", MESSAGE_BOUND, (server) => fragments(server, 1), {
      twin: (server) => releasing(fragments(server, 0)),
    });
  });

  test(`${pair.name}: 1,000,000 empty fragments stay within ${MESSAGE_BOUND.formula}`, async () => {
    await underAttack(pair, "empty fragments", MESSAGE_BOUND, (server) => fragments(server, 0));
  });

  test(`${pair.name}: one-byte fragments among pongs pin no socket reads: ${MESSAGE_BOUND.formula}`, async () => {
    const first = maskedFrame(Opcode.Binary, Uint8Array.of(1), false);
    await underAttack(
      pair,
      "kept views",
      MESSAGE_BOUND,
      (server) =>
        pinning(server, "/echo", first, maskedFrame(Opcode.Continuation, Uint8Array.of(2), false)),
      { twin: (server) => releasing(pinning(server, "/echo", first)) },
    );
  });

  test(`${pair.name}: an async handler's queue of one-byte messages among pongs pins no reads: ${QUEUE_BOUND.formula}`, async () => {
    const message = maskedFrame(Opcode.Binary, Uint8Array.of(1));
    await underAttack(
      pair,
      "receive queue views",
      QUEUE_BOUND,
      (server) => pinning(server, "/hold", message, message),
      { twin: (server) => releasing(pinning(server, "/hold", message)) },
    );
  });

  test(`${pair.name}: 1,000,000 one-byte messages queued behind an async handler: ${QUEUE_BOUND.formula}`, async () => {
    // 999,999 queued bytes: under maxReceiveQueueBytes (1 MiB), so reading never pauses.
    const message = maskedFrame(Opcode.Binary, Uint8Array.of(1));
    await underAttack(
      pair,
      "receive queue count",
      QUEUE_BOUND,
      (server) =>
        flood(
          server,
          "/hold",
          message,
          repeated(message, BLOCK_FRAMES),
          BLOCKS,
          (written) => `${written * BLOCK_FRAMES + 1} one-byte messages sent`,
        ),
      { twin: (server) => releasing(fragments(server, 0)) },
    );
  });
}

/** Bytes a compressed bomb inflates to: 64 × maxMessageBytes, from ~64 KiB on the wire. */
const BOMB_BYTES = 64 * maxMessageBytes;

// Deno.serve cannot compress: the bomb needs permessage-deflate.
for (const pair of pairs.filter((pair) => pair.adapter !== "deno")) {
  test(`${pair.name}: a compressed message inflating to ${mib(BOMB_BYTES)} stays within ${MESSAGE_BOUND.formula}`, async () => {
    await underAttack(pair, "deflate bomb", MESSAGE_BOUND, async (server) => {
      const client = await Attacker.open(server.port, "/deflate", {
        "Sec-WebSocket-Extensions": "permessage-deflate",
      });
      const extensions = client.headers.get("sec-websocket-extensions") ?? "";
      if (!extensions.includes("permessage-deflate")) {
        client.destroy();
        throw new Error(`No permessage-deflate: "${extensions}"`);
      }
      // RFC 7692 §7.2.1: the deflated bytes without the final empty block's 00 00 ff ff.
      const deflated = deflateRawSync(new Uint8Array(BOMB_BYTES), { finishFlush: 2 });
      const payload = deflated.subarray(0, deflated.length - 4);
      client.write(buildFrame(Opcode.Binary, payload, { rsv: 4, mask: KEY }));
      const outcome = await client.synced();
      return {
        release: () => client.destroy(),
        note: `${mib(payload.length)} compressed sent, then ${outcome}`,
      };
    });
  });
}

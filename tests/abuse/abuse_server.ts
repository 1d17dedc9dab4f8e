/**
 * The attack server of the abuse tests: an echo site on the public API with the small
 * limits of `attack_limits.ts`, run as a child process so its memory and descriptors can
 * be read from /proc. `WSPORT_ADAPTER` picks the adapter, `ABUSE_ROOT` the folder served
 * as files at `/`.
 *
 * Routes: `/echo` writes every message back; `/hold` never finishes its first message
 * (an async handler), so later messages wait in its receive queue; `/fill` answers
 * `fill <bytes>` by writing 64 KiB messages until that much waits in its send buffer
 * (then prints `filled <n>: <bytes> bytes wait`), and echoes anything else; `/deflate`
 * echoes with permessage-deflate; `/publish?topics=<n>` publishes each message it receives
 * on topic `t<k mod n>` for its k-th, which the site keeps for replay (`ATTACK_REPLAY`);
 * `/sink` drops every message (the publishing attack's harmless twin).
 *
 * With `REDIS_URL` set, the site has a Redis backplane and `/room` joins its topic "room".
 *
 * It reads commands on stdin, one per line: `gc` collects garbage (where the runtime
 * allows) and prints `gc <n> done` and the
 * runtime's own heap figures, so the test reads a settled resident size.
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { files, serve, WebSocketHandler, WebSocketSite } from "../../mod.ts";
import type { AdapterName, Backplane, Transport } from "../../mod.ts";
import { connectBackplane } from "../helpers/redis_backplane.ts";
import { ATTACK_LIMITS, ATTACK_REPLAY, BACKPLANE_CHANNEL } from "./attack_limits.ts";

/** Writes every message back. */
class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

/** Never finishes with its first message: later ones wait in the receive queue. */
class Hold extends WebSocketHandler {
  #release: () => void = () => {};
  readonly #released = new Promise<void>((resolve) => this.#release = resolve);

  override frameReceived(): Promise<void> {
    return this.#released;
  }

  override connectionLost(): void {
    this.#release();
  }
}

/** The most 64 KiB messages one `fill` writes (a bound, far above any socket's buffers). */
const MAX_FILL_WRITES = 2_048;
const FILL_CHUNK = new Uint8Array(64 * 1024);
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

let fills = 0;

/** Fills its own send buffer on request, so that what it sends next has to wait. */
class Fill extends Echo {
  override async frameReceived(frame: string | Uint8Array): Promise<void> {
    const match = typeof frame === "string" ? /^fill (\d+)$/.exec(frame) : null;
    if (match === null) return super.frameReceived(frame);
    const target = Number(match[1]);
    // A turn between writes, so each leaves for the socket (the kernel's buffers first)
    // before the next is counted.
    for (let i = 0; i < MAX_FILL_WRITES && this.transport.bufferedAmount < target; i++) {
      if (!this.transport.write(FILL_CHUNK)) return;
      await nextTurn();
    }
    console.log(`filled ${++fills}: ${this.transport.bufferedAmount} bytes wait`);
  }
}

let published = 0;

/** Publishes what it receives, as a chat relays it, on one topic of `topics` in turn. */
class Publish extends WebSocketHandler {
  readonly #topics = Number(new URL(this.transport.request.url).searchParams.get("topics"));

  override frameReceived(frame: string | Uint8Array): void {
    this.transport.publish(`t${published++ % this.#topics}`, frame);
  }
}

/** Drops what it receives. */
class Sink extends WebSocketHandler {
  override frameReceived(): void {}
}

const collect: () => void = (() => {
  const global = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (global.Bun !== undefined) return () => global.Bun!.gc(true);
  if (global.gc !== undefined) return global.gc;
  throw new Error("Run the attack server with --expose-gc (Deno: --v8-flags=--expose-gc)");
})();

/** Joins the topic "room" (and says "joined"), where the backplane's messages arrive. */
class Member extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("room");
    transport.write("joined");
  }
}

/**
 * With `REDIS_URL`, a backplane on the Redis there, on channel `BACKPLANE_CHANNEL`; its errors are printed as
 * `backplane error: <message>`.
 */
async function redisBackplane(url: string | undefined): Promise<Backplane | undefined> {
  if (url === undefined) return undefined;
  const { backplane } = await connectBackplane(url, "pubsub", {
    channel: BACKPLANE_CHANNEL,
    onError: (error) => console.log(`backplane error: ${(error as Error).message}`),
  });
  return backplane;
}

const site = new WebSocketSite(files(process.env.ABUSE_ROOT ?? "."), {
  limits: ATTACK_LIMITS,
  replay: ATTACK_REPLAY,
  backplane: await redisBackplane(process.env.REDIS_URL),
});
site.addHandler("/echo", Echo);
site.addHandler("/hold", Hold);
site.addHandler("/fill", Fill);
site.addHandler("/deflate", Echo, { perMessageDeflate: true });
site.addHandler("/room", Member);
site.addHandler("/publish", Publish);
site.addHandler("/sink", Sink);
const server = await serve(site, {
  port: 0,
  hostname: "127.0.0.1",
  adapter: process.env.WSPORT_ADAPTER as AdapterName,
});

const lines = createInterface({ input: process.stdin });
let collections = 0;
lines.on("line", async (line: string) => {
  if (line.trim() !== "gc") return;
  // Several passes, a turn apart: finalizers and weak references free more each time.
  for (let pass = 0; pass < 4; pass++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  console.log(
    `gc ${++collections} done ${JSON.stringify({ heapTotal, heapUsed, external, arrayBuffers })}`,
  );
});
lines.on("close", () => server.shutdown());
console.log(`abuse server listening on ${server.port}`);

/**
 * A wsport process for the Redis test: `/room` subscribes each connection to "room"
 * (then writes "joined") and publishes what it sends to the others, in every process
 * sharing the Redis at
 * `REDIS_URL`. It prints `serving <port>` once it listens, `status <status>` at each
 * change of the backplane, and shuts down when its stdin closes.
 *
 * Environment: `REDIS_URL`, `WSPORT_ADAPTER` ("node" or the runtime's own).
 * @module
 */

import process from "node:process";
import { serve } from "../../src/adapters/serve.ts";
import type { AdapterName } from "../../src/adapters/server.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { type BackplaneKind, connectBackplane } from "../helpers/redis_backplane.ts";

const maxLength = process.env.STREAM_MAXLEN;
const connected = await connectBackplane(
  process.env.REDIS_URL!,
  (process.env.WSPORT_BACKPLANE ?? "pubsub") as BackplaneKind,
  {
    probeIntervalMs: 100,
    retryMaxMs: 200,
    retention: maxLength === undefined ? undefined : { maxLength: Number(maxLength), exact: true },
    onStatus: (status) => console.log(`status ${status}`),
    onError: (error) => console.log(`error ${(error as Error)?.message ?? error}`),
  },
);
const { backplane } = connected;

class Member extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    const since = new URL(transport.request.url).searchParams.get("since") ?? undefined;
    if (!transport.subscribe("room", { since })) transport.write("gap");
    transport.write("joined");
  }

  override frameReceived(frame: string | Uint8Array): void {
    this.transport.publish("room", frame);
  }
}

const site = new WebSocketSite(undefined, {
  backplane,
  encodePublished: process.env.ENCODE_IDS === undefined ? undefined : (data, id) => `${id} ${data}`,
});
site.addHandler("/room", Member);
const server = await serve(site, {
  port: 0,
  hostname: "127.0.0.1",
  adapter: process.env.WSPORT_ADAPTER as AdapterName,
});
console.log(`serving ${server.port}`);

process.stdin.resume();
process.stdin.on("end", async () => {
  await server.shutdown();
  await connected.close();
  process.exit(0);
});

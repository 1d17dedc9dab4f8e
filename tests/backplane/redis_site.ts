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
import { createClient } from "redis";
import { serve } from "../../src/adapters/serve.ts";
import type { AdapterName } from "../../src/adapters/server.ts";
import { RedisBackplane } from "../../src/backplane/redis.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";

const publisher = createClient({
  url: process.env.REDIS_URL,
  socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
});
const subscriber = publisher.duplicate();
publisher.on("error", () => {});
subscriber.on("error", () => {});
await Promise.all([publisher.connect(), subscriber.connect()]);

const backplane = new RedisBackplane({
  publish: (channel, message) => publisher.publish(channel, message),
  subscribe: (channels, listener) => subscriber.subscribe(channels, listener),
  unsubscribe: (channels) => subscriber.unsubscribe(channels),
}, {
  probeIntervalMs: 100,
  retryMaxMs: 200,
  onStatus: (status) => console.log(`status ${status}`),
  onError: () => {},
});

class Member extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("room");
    transport.write("joined");
  }

  override frameReceived(frame: string | Uint8Array): void {
    this.transport.publish("room", frame);
  }
}

const site = new WebSocketSite(undefined, { backplane });
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
  await backplane.close();
  await Promise.all([publisher.destroy(), subscriber.destroy()]);
  process.exit(0);
});

/**
 * wsport with topics: echo at `/echo`, and at `/broadcast` every connection subscribes
 * to one topic that each message is published on (`site.publish`: framed once, the same
 * bytes to every raw socket). On the adapter named by the first argument (`node`, `deno`
 * or `bun`). With a second argument `chat`, the same handler also serves `/chat` with
 * permessage-deflate (threshold 0: every message compressed, for each connection with its
 * own context), for scenario (g). Only then: Bun.serve compresses server-wide once a
 * route does, which must not touch the other scenarios. Prints `{"port":N}` once it
 * listens.
 *
 *     node .build/bench/servers/wsport_topics.js node
 *     deno run -A bench/servers/wsport_topics.ts deno
 *     bun bench/servers/wsport_topics.ts bun chat
 *
 * @module
 */

import process from "node:process";
import {
  type AdapterName,
  serve,
  type Transport,
  WebSocketHandler,
  WebSocketSite,
} from "../../mod.ts";

/** Writes every message back, text as text and binary as binary. */
class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const site = new WebSocketSite();

/** Subscribes to "all" and publishes every message it receives there. */
class Broadcast extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("all");
  }

  override frameReceived(frame: string | Uint8Array): void {
    site.publish("all", frame);
  }
}

site.addHandler("/echo", Echo);
site.addHandler("/broadcast", Broadcast);
if (process.argv[3] === "chat") {
  site.addHandler("/chat", Broadcast, { perMessageDeflate: { threshold: 0 } });
}
const adapter = (process.argv[2] ?? "node") as AdapterName;
const server = await serve(site, { port: 0, hostname: "127.0.0.1", adapter });
console.log(JSON.stringify({ port: server.port }));

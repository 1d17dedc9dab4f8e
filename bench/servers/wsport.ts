/**
 * The wsport server under test: an echo handler at `/echo` and a broadcast handler at
 * `/broadcast`, on the adapter named by the first argument (`node`, `deno` or `bun`).
 * Prints `{"port":N}` once it listens.
 *
 *     node .build/bench/servers/wsport.js node
 *     deno run -A bench/servers/wsport.ts deno
 *     bun bench/servers/wsport.ts bun
 *
 * @module
 */

import process from "node:process";
import { type AdapterName, serve, WebSocketHandler, WebSocketSite } from "../../mod.ts";

/** Writes every message back, text as text and binary as binary. */
class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const site = new WebSocketSite();

/** Writes every message it receives to every open connection of the site. */
class Broadcast extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    for (const transport of site.connections) transport.write(frame);
  }
}

site.addHandler("/echo", Echo);
site.addHandler("/broadcast", Broadcast);
const adapter = (process.argv[2] ?? "node") as AdapterName;
const server = await serve(site, { port: 0, hostname: "127.0.0.1", adapter });
console.log(JSON.stringify({ port: server.port }));
// Exit cleanly on a signal, so that a profiler (node --cpu-prof) writes its output.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));

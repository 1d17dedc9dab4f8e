/**
 * `serve()`: runs a site on the runtime's own server, or on the adapter you name.
 * @module
 */

import type { WebSocketSite } from "../site/site.ts";
import { serveBun } from "./bun.ts";
import { serveDeno } from "./deno.ts";
import { serveNode } from "./node.ts";
import { bindRuntime, detectRuntime } from "./runtime.ts";
import type { AdapterName, ServeOptions, Server } from "./server.ts";

const adapters: Record<
  AdapterName,
  (site: WebSocketSite, options: ServeOptions) => Promise<Server>
> = {
  deno: serveDeno,
  bun: serveBun,
  node: serveNode,
};

bindRuntime();

/**
 * Serves a site: WebSockets on its routes, plain HTTP for the rest.
 *
 * Picks Deno.serve on Deno, Bun.serve on Bun and `node:http` on Node; `adapter: "node"`
 * runs wsport's own framing on any of them (for exact close codes, pings and limits).
 *
 * @returns The running server, once it listens.
 * @throws {TypeError} When the adapter named does not exist in this runtime.
 *
 * @example
 * ```ts
 * const server = await serve(site, { port: 0, hostname: "127.0.0.1" });
 * console.log(`http://127.0.0.1:${server.port}/`);
 * await server.shutdown();
 * ```
 */
export function serve(site: WebSocketSite, options: ServeOptions = {}): Promise<Server> {
  const runtime = detectRuntime();
  const adapter = options.adapter ?? runtime;
  if (!(adapter in adapters)) throw new TypeError(`Unknown adapter "${adapter}"`);
  if (adapter !== "node" && adapter !== runtime) {
    throw new TypeError(`The "${adapter}" adapter needs ${adapter}; this is ${runtime}`);
  }
  return adapters[adapter](site, options);
}

/**
 * `serve()`: runs a site on the runtime's own server, or on the adapter you name.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  optionTypeError,
} from "../core/options.ts";
import { WebSocketSite } from "../site/site.ts";
import { detectRuntime } from "./runtime.ts";
import type { AdapterName, ServeOptions, Server } from "./server.ts";

/**
 * Each adapter, loaded on first use: importing `serve` loads none of them, so the Node
 * adapter's `node:` modules stay out of an app that runs on Deno.serve or Bun.serve.
 */
const adapters: Readonly<
  Record<AdapterName, (site: WebSocketSite, options: ServeOptions) => Promise<Server>>
> = Object.freeze({
  deno: async (site, options) => (await import("./deno.ts")).serveDeno(site, options),
  bun: async (site, options) => (await import("./bun.ts")).serveBun(site, options),
  node: async (site, options) => (await import("./node.ts")).serveNode(site, options),
});

const SERVE = "serve()";

/** Checks of `serve()`'s options, one for each: the type checker keeps the list complete. */
const CHECKS: { [Name in keyof Required<ServeOptions>]: (value: unknown) => void } = {
  port: (value) => checkInteger(SERVE, "port", value, 0, 65535),
  hostname: (value) => {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw optionTypeError(SERVE, "hostname", 'a non-empty string ("127.0.0.1", "::")', value);
    }
  },
  adapter: (value) => {
    if (value !== undefined && !Object.hasOwn(adapters, value as string)) {
      const names = Object.keys(adapters).map((name) => `"${name}"`).join(", ");
      throw optionTypeError(SERVE, "adapter", `one of ${names}`, value);
    }
  },
  reusePort: (value) => checkType(SERVE, "reusePort", value, "boolean"),
  signal: (value) => {
    if (value !== undefined && !(value instanceof AbortSignal)) {
      throw optionTypeError(SERVE, "signal", "an AbortSignal", value);
    }
  },
};

/**
 * Checks `serve()`'s arguments, for callers in plain JavaScript too.
 * @throws {TypeError} See {@linkcode serve}.
 * @throws {RangeError} See {@linkcode serve}.
 */
function checkServeArguments(site: unknown, options: unknown): void {
  if (!(site instanceof WebSocketSite)) {
    throw new TypeError(`${SERVE}: the site must be a WebSocketSite, got ${describeValue(site)}`);
  }
  const given = checkOptionNames(SERVE, options, Object.keys(CHECKS));
  for (const [name, check] of Object.entries(CHECKS)) check(given[name]);
}

/**
 * Serves a site: WebSockets on its routes, plain HTTP for the rest.
 *
 * Picks Deno.serve on Deno, Bun.serve on Bun and `node:http` on Node; `adapter: "node"`
 * runs wsport's own framing on any of them (for exact close codes, pings and limits).
 *
 * Every option is checked at the call, for callers in plain JavaScript too: `port` an
 * integer from 0 to 65535, `hostname` a non-empty string, `adapter` one of "deno", "bun"
 * and "node", `reusePort` a boolean, `signal` an `AbortSignal` (one already aborted shuts
 * the server down as soon as it listens).
 *
 * @returns The running server, once it listens.
 * @throws {TypeError} When `site` is not a `WebSocketSite`, `options` not an object, an
 *   option's name is unknown (the message lists the known ones, with the nearest to a
 *   typo: `{ prot: 8080 }` suggests "port"), an option's value is of the wrong type, or
 *   the adapter named does not run in this runtime (or `reusePort` is not available on
 *   it).
 * @throws {RangeError} When `port` is not an integer from 0 to 65535.
 *
 * @example
 * ```ts
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * const server = await serve(site, { port: 0, hostname: "127.0.0.1" });
 * console.log(`http://127.0.0.1:${server.port}/`);
 * await server.shutdown();
 * ```
 */
export function serve(site: WebSocketSite, options: ServeOptions = {}): Promise<Server> {
  checkServeArguments(site, options);
  const runtime = detectRuntime();
  const adapter = options.adapter ?? runtime;
  if (adapter !== "node" && adapter !== runtime) {
    throw new TypeError(`The "${adapter}" adapter needs ${adapter}; this is ${runtime}`);
  }
  return adapters[adapter](site, options).then((server) => {
    // Aborted before (or while) it started listening: the adapter's listener missed it.
    if (options.signal?.aborted) server.shutdown();
    return server;
  });
}

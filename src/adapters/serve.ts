/**
 * `serve()`: runs a site on the runtime's own server, or on the adapter you name.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  isOptionsObject,
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
  tls: (value) => checkTls(value),
  path: (value) => {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw optionTypeError(SERVE, "path", "a non-empty string (a Unix socket's path)", value);
    }
  },
  server: (value) => {
    const methods = ["on", "off", "listeners", "address"];
    if (
      value !== undefined &&
      !(isOptionsObject(value) && methods.every((name) => typeof value[name] === "function"))
    ) {
      throw optionTypeError(SERVE, "server", "a node:http or node:https Server", value);
    }
  },
};

const TLS_OPTIONS = ["cert", "key", "ca", "passphrase"];

/** Whether a value is PEM text: a non-empty string or bytes. */
const isPem = (value: unknown) =>
  (typeof value === "string" || value instanceof Uint8Array) && value.length > 0;

const PEM = "PEM text (a non-empty string or Uint8Array)";

/** Checks the `tls` option: `cert` and `key` are required. */
function checkTls(value: unknown): void {
  if (value === undefined) return;
  const tls = checkOptionNames(SERVE, value, TLS_OPTIONS, "tls");
  for (const name of ["cert", "key"]) {
    if (!isPem(tls[name])) throw optionTypeError(SERVE, `tls.${name}`, PEM, tls[name]);
  }
  const ca = tls.ca;
  if (ca !== undefined && !isPem(ca) && !(Array.isArray(ca) && ca.every(isPem))) {
    throw optionTypeError(SERVE, "tls.ca", `${PEM}, or an array of them`, ca);
  }
  checkType(SERVE, "tls.passphrase", tls.passphrase, "string");
}

/**
 * Options that make no sense together: each pair is refused naming both.
 * `server` already listens; `path` replaces the TCP address.
 */
const EXCLUSIVE: readonly (readonly [keyof ServeOptions, readonly (keyof ServeOptions)[]])[] = [
  ["server", ["port", "hostname", "path", "tls", "reusePort"]],
  ["path", ["port", "hostname", "reusePort"]],
];

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
  for (const [name, others] of EXCLUSIVE) {
    if (given[name] === undefined) continue;
    const other = others.find((other) => given[other] !== undefined);
    if (other !== undefined) {
      throw new TypeError(`${SERVE}: options "${name}" and "${other}" cannot be used together`);
    }
  }
  if (given.server !== undefined && given.adapter !== undefined && given.adapter !== "node") {
    throw new TypeError(
      `${SERVE}: option "server" (a node:http server) needs the "node" adapter, ` +
        `not "${given.adapter}"`,
    );
  }
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
 * the server down as soon as it listens), `tls` an object with `cert` and `key` (PEM
 * strings or bytes; `ca` one or a list of them, `passphrase` a string), `path` a
 * non-empty string, `server` a `node:http` or `node:https` server (which picks the Node
 * adapter).
 *
 * @returns The running server, once it listens.
 * @throws {TypeError} When `site` is not a `WebSocketSite`, `options` not an object, an
 *   option's name is unknown (the message lists the known ones, with the nearest to a
 *   typo: `{ prot: 8080 }` suggests "port"), an option's value is of the wrong type, or
 *   the adapter named does not run in this runtime (or `reusePort` is not available on
 *   it), or two options that exclude each other are given (`path` with `port`, `hostname`
 *   or `reusePort`; `server` with any of those or `tls`; `server` with another adapter
 *   than "node").
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
  const adapter = options.adapter ?? (options.server === undefined ? runtime : "node");
  if (adapter !== "node" && adapter !== runtime) {
    throw new TypeError(`The "${adapter}" adapter needs ${adapter}; this is ${runtime}`);
  }
  return adapters[adapter](site, options).then((server) => {
    // Aborted before (or while) it started listening: the adapter's listener missed it.
    if (options.signal?.aborted) server.shutdown();
    return server;
  });
}

/**
 * What `serve()` takes and returns, the same on every adapter, and the shutdown every
 * adapter shares.
 * @module
 */

import { CloseCode } from "../core/constants.ts";
import type { Limits } from "../core/limits.ts";
import type { Session } from "../site/session.ts";

/** The adapters wsport has. */
export type AdapterName = "deno" | "bun" | "node";

/**
 * Options of `serve()`, each checked at the call: an unknown name or a value of the wrong
 * type is a `TypeError`, a port out of range a `RangeError`.
 */
export interface ServeOptions {
  /**
   * The TCP port, an integer from 0 to 65535; 0 lets the system pick one (read it from
   * `server.port`).
   * @default 8080
   */
  port?: number;
  /**
   * The address to listen on, a non-empty string ("127.0.0.1", "::", "localhost").
   * @default "0.0.0.0"
   */
  hostname?: string;
  /**
   * Which adapter to use.
   * @default the runtime's own server: "deno" on Deno, "bun" on Bun, "node" on Node
   */
  adapter?: AdapterName;
  /**
   * Lets several processes listen on the same port (`SO_REUSEPORT`, on Linux and the
   * BSDs), the kernel spreading connections among them: run one process per core and
   * share topics through a backplane. The Bun adapter has it; the Deno adapter with
   * Deno's `--unstable-net` flag; the Node adapter on Node 22.12 or later and on Deno.
   * On Node 20, run the workers with `node:cluster` instead: they share one listening
   * socket without it.
   * @default false
   */
  reusePort?: boolean;
  /** Aborting it shuts the server down, as {@linkcode Server.shutdown} does. */
  signal?: AbortSignal;
  /**
   * Serves `https:` and `wss:` with this certificate and key, on every adapter: the Node
   * adapter through `node:https`, Deno.serve and Bun.serve with their own TLS.
   * @default none: plain `http:` and `ws:`
   */
  tls?: TlsOptions;
  /**
   * A Unix domain socket to listen on instead of a TCP port, for a server behind nginx or
   * another local proxy. Not with `port` or `hostname`. Every adapter has it on Linux and
   * macOS (the Node adapter on Node, Deno and Bun; Deno.serve's `path`; Bun.serve's
   * `unix`). An existing file at the path is not removed: listening fails with `EADDRINUSE`.
   * @default none: a TCP port
   */
  path?: string;
  /**
   * An existing `node:http` or `node:https` server (Express's, Fastify's `server`, Koa's
   * `app.listen()`, a bare `http.createServer()`) to take WebSocket upgrades from,
   * instead of starting one: the Node adapter only. Its own request handler keeps every
   * plain request; wsport takes the upgrades whose path is one of the site's routes, and
   * leaves the others to the server's other `upgrade` listeners (when it has none, wsport
   * answers them as the site would). `shutdown()` closes wsport's connections and stops
   * taking upgrades, but leaves the server running. Not with `port`, `hostname`, `path`,
   * `tls` or `reusePort`: the server already listens.
   * @default none: `serve()` starts a server
   */
  server?: NodeServer;
}

/**
 * The certificate and key of a TLS server, as PEM text (a string, or its bytes as read
 * from a file).
 */
export interface TlsOptions {
  /** The certificate chain: the server's certificate, then any intermediates. */
  cert: string | Uint8Array;
  /** The private key. */
  key: string | Uint8Array;
  /**
   * More CA certificates (intermediates of the chain, say): `node:https`'s and Bun.serve's
   * own `ca`; appended to `cert` on Deno.serve, which has no `ca`.
   */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
}

/**
 * The slice of a `node:http` (or `node:https`) `Server` that `serve(site, { server })`
 * uses: its `upgrade` listeners and its address.
 */
export interface NodeServer {
  /** Adds an `upgrade` listener. */
  // deno-lint-ignore no-explicit-any
  on(event: "upgrade", listener: (...args: any[]) => void): unknown;
  /** Removes an `upgrade` listener. */
  // deno-lint-ignore no-explicit-any
  off(event: "upgrade", listener: (...args: any[]) => void): unknown;
  /** The `upgrade` listeners, in the order they run. */
  listeners(event: "upgrade"): unknown[];
  /** Where it listens. */
  address(): { port: number; address: string } | string | null;
}

/** A running server. */
export interface Server {
  /** The adapter serving. */
  readonly adapter: AdapterName;
  /** The bound port; `0` on a Unix domain socket. */
  readonly port: number;
  /** The bound address; `""` on a Unix domain socket. */
  readonly hostname: string;
  /** The Unix domain socket's path, when it listens on one. */
  readonly path?: string;
  /** Settles once the server has shut down. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, closes open WebSocket connections with 1001, waits for
   * them for at most the close timeout, then drops the rest.
   */
  shutdown(): Promise<void>;
}

/** A connection as an adapter tracks it, for deadlines and shutdown. */
export interface TrackedConnection {
  /** The session, once open. */
  readonly session: Session | undefined;
  /** Settles when the connection is fully closed. */
  readonly closed: Promise<void>;
  /** Acts on passed deadlines. */
  tick(now: number): void;
  /** Drops the connection at once. */
  terminate(code: number, reason: string): void;
}

/**
 * Closes every connection with 1001 and waits for them, dropping those still open after
 * `timeoutMs`.
 *
 * @param dropAll Called once the stragglers were told to drop, for a runtime that cannot
 *   drop one connection by itself (Deno): it must end them all.
 */
export async function closeConnections(
  connections: ReadonlySet<TrackedConnection>,
  timeoutMs: number,
  dropAll?: () => void,
): Promise<void> {
  const all = [...connections];
  for (const connection of all) {
    if (connection.session === undefined) connection.terminate(CloseCode.GoingAway, "");
    else connection.session.close(CloseCode.GoingAway, "Server shutting down");
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
  await Promise.race([Promise.all(all.map((connection) => connection.closed)), timedOut]);
  clearTimeout(timer);
  // Those still open never answered the 1001: their closing handshake timed out, as
  // their own close timeout (which may fire first) says too.
  for (const connection of all) {
    connection.terminate(CloseCode.AbnormalClosure, "Close handshake timed out");
  }
  dropAll?.();
  await Promise.all(all.map((connection) => connection.closed));
}

/** How often deadlines must be checked to honour these limits to within a quarter. */
export function tickIntervalFor(limits: Readonly<Limits>): number {
  const timeouts = [
    limits.handshakeTimeoutMs,
    limits.closeTimeoutMs,
    limits.heartbeatIntervalMs,
    limits.heartbeatTimeoutMs,
    limits.idleTimeoutMs,
  ].filter((ms) => ms > 0);
  return Math.min(1000, Math.max(5, Math.floor(Math.min(...timeouts) / 4)));
}

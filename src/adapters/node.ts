/**
 * The Node adapter: a `node:http` server whose `upgrade` event hands the raw socket to
 * the core, which runs its own framing. It runs on Node, and on Deno and Bun through
 * their `node:http`.
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { ListenOptions, Socket } from "node:net";
import process from "node:process";
import { siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { toRequest, writeRawResponse, writeResponse } from "./node_http.ts";
import { dropFailed, NodeSockets, refusalOf, rejection } from "./node_sockets.ts";
import { attachNode } from "./node_upgrade_handler.ts";
import { detectRuntime } from "./runtime.ts";
import type { ServeOptions, Server } from "./server.ts";
import { nodeTlsOptions } from "./tls.ts";

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    // An unref'd timer: waiting for it never keeps the process alive.
    (timer as { unref?: () => void }).unref?.();
  });

/**
 * Drops the connection of a request whose body stops arriving for `timeoutMs` (`0`: no
 * limit), against slow-loris bodies: `node:http`'s `requestTimeout` allows 300 s on Node,
 * and Deno's and Bun's `node:http` have none. Progress resets it; the body's end clears it.
 */
function awaitBody(message: IncomingMessage, timeoutMs: number): void {
  const { headers, socket } = message;
  const length = headers["content-length"];
  const hasBody = (length !== undefined && !/^0+$/.test(length)) ||
    headers["transfer-encoding"] !== undefined;
  if (!hasBody || message.complete || timeoutMs === 0) return;
  // With no "timeout" listener of its own, node:http destroys the socket.
  socket.setTimeout(timeoutMs);
  message.once("end", () => socket.setTimeout(0));
}

/**
 * Why `reusePort` cannot be had here, or `undefined` when it can: Node has it from 22.12
 * (and 23.1), Deno's `node:net` has it, Bun's has not.
 */
function reusePortRefusal(): string | undefined {
  const runtime = detectRuntime();
  if (runtime === "deno") return undefined;
  if (runtime === "bun") return "The node adapter on Bun has no reusePort: use the bun adapter";
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) {
    return undefined;
  }
  return `reusePort needs Node 22.12 or later, not ${process.versions.node}: on Node 20, ` +
    "run the workers with node:cluster, which share one listening socket";
}

/**
 * Serves a site with `node:http` (or `node:https`, given `tls`), framing WebSockets with
 * wsport's core; given `server`, takes the upgrades of an existing server instead (see
 * {@linkcode attachNode}).
 *
 * @throws {TypeError} For `reusePort` where `node:net` lacks it (Node 20, Bun).
 *
 * @example
 * ```ts
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * const server = await serveNode(site, { port: 8080 });
 * console.log(`listening on ${server.port}`);
 * ```
 */
export async function serveNode(site: WebSocketSite, options: ServeOptions = {}): Promise<Server> {
  if (options.server !== undefined) return attachNode(site, options.server, options.signal);
  const reusePort = options.reusePort ?? false;
  const refusal = reusePort ? reusePortRefusal() : undefined;
  if (refusal !== undefined) throw new TypeError(refusal);
  const limits = site.limits;
  const sockets = new NodeSockets(site);

  /** Requests of a kept-alive socket whose responses have not finished. */
  const inFlight = new WeakMap<Socket, number>();
  const onRequest = (message: IncomingMessage, response: ServerResponse) => {
    const socket = message.socket;
    sockets.settle(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once("finish", () => {
      const left = inFlight.get(socket)! - 1;
      inFlight.set(socket, left);
      // Waiting for its next request: the handshake deadline again (Deno's node:http
      // applies no headersTimeout after a connection's first request).
      if (left === 0 && !socket.destroyed) sockets.track(socket);
    });
    awaitBody(message, limits.handshakeTimeoutMs);
    serveRequest(site, message, response).catch((error) => dropFailed(site, socket, error));
  };
  const serverOptions = { maxHeaderSize: limits.maxHeaderBytes };
  const server = options.tls === undefined
    ? createServer(serverOptions, onRequest)
    : createHttpsServer({
      ...serverOptions,
      ...nodeTlsOptions(options.tls),
      // Node's own bound on the TLS handshake (an idle timeout, 120 s by default); the
      // deadline the sockets keep, counted from the accept, holds whatever the peer sends.
      ...(limits.handshakeTimeoutMs > 0 ? { handshakeTimeout: limits.handshakeTimeoutMs } : {}),
    }, onRequest);
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  if (limits.handshakeTimeoutMs > 0) {
    server.headersTimeout = limits.handshakeTimeoutMs;
    server.requestTimeout = Math.max(server.requestTimeout, limits.handshakeTimeoutMs);
  }

  // Watched from the TCP accept (on Bun's node:https, from the end of the TLS handshake:
  // it reports no connection before).
  server.on("connection", (socket: Socket) => sockets.track(socket));
  if (options.tls !== undefined) {
    server.on("secureConnection", (socket: Socket) => sockets.secured(socket));
  }
  server.on("upgrade", (message: IncomingMessage, socket: Socket, head: Uint8Array) => {
    // An upgrade on a kept-alive socket, after plain requests, gets its own deadline.
    sockets.upgrade(message, socket, head);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const response = error.code === "HPE_HEADER_OVERFLOW"
      ? rejection(431, "Request header fields too large")
      : rejection(400, "Malformed HTTP request");
    writeRawResponse(response, socket, limits).catch(() => socket.destroy());
  });

  const listenOptions: ListenOptions & { reusePort?: boolean } = options.path !== undefined
    ? { path: options.path }
    : { port: options.port ?? 8080, host: options.hostname ?? "0.0.0.0", reusePort };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenOptions, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null) throw new Error("The server is not listening");

  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  closed.then(resolveFinished);
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    shuttingDown ??= (async () => {
      server.close();
      server.closeIdleConnections?.();
      await sockets.close();
      server.closeAllConnections?.();
      // Deno's node:http never reports "close" once a socket was upgraded: do not wait
      // past the close timeout for it.
      await Promise.race([closed, delay(limits.closeTimeoutMs)]);
      resolveFinished();
    })();
  options.signal?.addEventListener("abort", () => shutdown(), { once: true });
  return {
    adapter: "node",
    port: typeof address === "string" ? 0 : address.port,
    hostname: typeof address === "string" ? "" : address.address,
    ...(typeof address === "string" ? { path: address } : {}),
    finished,
    shutdown,
  };
}

/** Serves a plain HTTP request. */
async function serveRequest(
  site: WebSocketSite,
  message: IncomingMessage,
  target: ServerResponse,
): Promise<void> {
  let response = refusalOf(message, site.limits);
  if (response === undefined) {
    const controller = new AbortController();
    target.once("close", () => controller.abort());
    let request: Request;
    try {
      request = toRequest(message, message, controller.signal);
    } catch {
      await writeResponse(rejection(400, "Malformed request headers"), target, site.limits);
      return;
    }
    // An upgrade the site would accept arrives as an `upgrade` event, never here: answer
    // one that does (a client that left out `Connection: Upgrade`) as plain HTTP.
    response = await siteInternals(site).handle(request, {
      upgrade: () => siteInternals(site).serveHttp(request),
    });
  }
  await writeResponse(response, target, site.limits);
}

/**
 * The Node adapter: a `node:http` server whose `upgrade` event hands the raw socket to
 * the core, which runs its own framing. It runs on Node, and on Deno and Bun through
 * their `node:http`.
 * @module
 */

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { ListenOptions, Socket } from "node:net";
import process from "node:process";
import { GUID } from "../core/constants.ts";
import { HandshakeError } from "../core/errors.ts";
import { acceptHeaders } from "../core/handshake.ts";
import type { Limits } from "../core/limits.ts";
import { siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import {
  isRequestTarget,
  NodeRequestHead,
  toRequest,
  writeRawResponse,
  writeResponse,
} from "./node_http.ts";
import { detectRuntime } from "./runtime.ts";
import {
  closeConnections,
  type ServeOptions,
  type Server,
  tickIntervalFor,
  type TrackedConnection,
} from "./server.ts";
import { DeflateCodec } from "./deflate_codec.ts";
import { SocketLink } from "./socket_link.ts";
import { Sweeper } from "./sweeper.ts";

/**
 * A socket whose request head has not arrived in full yet (its first, or the next one on
 * a kept-alive connection), or whose upgrade the site is still deciding: dropped at the
 * handshake timeout, against slow-loris.
 */
class PendingSocket implements TrackedConnection {
  readonly session = undefined;
  readonly #socket: Socket;
  readonly #deadline: number;
  readonly #onClose: () => void;
  #isClosed = false;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  /** @param onClose Called once if the socket closes before {@linkcode release}. */
  constructor(socket: Socket, timeoutMs: number, onClose: () => void) {
    this.#socket = socket;
    this.#deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
    this.#onClose = () => {
      this.#isClosed = true;
      this.#resolveClosed?.();
      onClose();
    };
    socket.on("close", this.#onClose);
  }

  /**
   * Settles when the socket has closed. Made on demand (at shutdown): a socket that is
   * upgraded or answered keeps nothing of its pending time.
   */
  get closed(): Promise<void> {
    return this.#closed ??= this.#isClosed
      ? Promise.resolve()
      : new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** Stops watching the socket, once its request has arrived. */
  release(): void {
    this.#socket.off("close", this.#onClose);
  }

  tick(now: number): void {
    if (now >= this.#deadline) this.#socket.destroy();
  }

  terminate(): void {
    this.#socket.destroy();
  }
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    // An unref'd timer: waiting for it never keeps the process alive.
    (timer as { unref?: () => void }).unref?.();
  });

const rejection = (status: number, message: string) =>
  new HandshakeError(status, message).toResponse();

/**
 * The refusal for a request head `node:http` parsed but wsport will not serve: more
 * headers than allowed (Node truncates rather than refuse), or a request target that is
 * neither a path nor an absolute URL (`*`, which Node passes on and the URL parser reads
 * as `/*`). `undefined` for a request to serve.
 */
function refusalOf(message: IncomingMessage, limits: Readonly<Limits>): Response | undefined {
  if (message.rawHeaders.length / 2 > limits.maxHeaderCount) {
    return rejection(431, "Too many request header fields");
  }
  if (!isRequestTarget(message.url ?? "/")) return rejection(400, "Malformed request target");
  return undefined;
}

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
 * `Sec-WebSocket-Accept` for a key with `node:crypto`'s SHA-1, the same value as the
 * core's `computeAccept()`: synchronous, and on Node much cheaper than `crypto.subtle`
 * for a 60-byte input (a third of the server's CPU per handshake went to it).
 */
export function nodeAccept(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/**
 * Serves a site with `node:http`, framing WebSockets with wsport's core.
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
  const reusePort = options.reusePort ?? false;
  const refusal = reusePort ? reusePortRefusal() : undefined;
  if (refusal !== undefined) throw new TypeError(refusal);
  const limits = site.limits;
  const sweeper = new Sweeper();
  const pending = new Map<Socket, PendingSocket>();
  const settle = (socket: Socket) => {
    const entry = pending.get(socket);
    if (entry === undefined) return;
    pending.delete(socket);
    sweeper.delete(entry);
    entry.release();
  };

  /** Requests of a kept-alive socket whose responses have not finished. */
  const inFlight = new WeakMap<Socket, number>();
  const server = createServer({ maxHeaderSize: limits.maxHeaderBytes }, (message, response) => {
    const socket = message.socket;
    settle(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once("finish", () => {
      const left = inFlight.get(socket)! - 1;
      inFlight.set(socket, left);
      // Waiting for its next request: the handshake deadline again (Deno's node:http
      // applies no headersTimeout after a connection's first request).
      if (left === 0 && !socket.destroyed) track(socket);
    });
    awaitBody(message, limits.handshakeTimeoutMs);
    serveRequest(site, message, response).catch((error) => dropFailed(site, socket, error));
  });
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  if (limits.handshakeTimeoutMs > 0) {
    server.headersTimeout = limits.handshakeTimeoutMs;
    server.requestTimeout = Math.max(server.requestTimeout, limits.handshakeTimeoutMs);
  }

  const track = (socket: Socket) => {
    const entry = new PendingSocket(socket, limits.handshakeTimeoutMs, () => settle(socket));
    pending.set(socket, entry);
    sweeper.add(entry, tickIntervalFor(limits));
  };

  server.on("connection", track);
  server.on("upgrade", (message: IncomingMessage, socket: Socket, head: Uint8Array) => {
    // An upgrade on a kept-alive socket, after plain requests: its own handshake deadline.
    if (!pending.has(socket)) track(socket);
    // The deadline holds while the site decides (an onUpgrade hook may never settle).
    upgrade(site, sweeper, message, socket, head, () => settle(socket)).catch((error) =>
      dropFailed(site, socket, error)
    );
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const response = error.code === "HPE_HEADER_OVERFLOW"
      ? rejection(431, "Request header fields too large")
      : rejection(400, "Malformed HTTP request");
    writeRawResponse(response, socket, limits).catch(() => socket.destroy());
  });

  const listenOptions: ListenOptions & { reusePort: boolean } = {
    port: options.port ?? 8080,
    host: options.hostname ?? "0.0.0.0",
    reusePort,
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenOptions, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Not a TCP server");

  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  closed.then(resolveFinished);
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    shuttingDown ??= (async () => {
      server.close();
      server.closeIdleConnections?.();
      await closeConnections(sweeper.connections, limits.closeTimeoutMs);
      server.closeAllConnections?.();
      // Deno's node:http never reports "close" once a socket was upgraded: do not wait
      // past the close timeout for it.
      await Promise.race([closed, delay(limits.closeTimeoutMs)]);
      resolveFinished();
    })();
  options.signal?.addEventListener("abort", () => shutdown(), { once: true });
  return {
    adapter: "node",
    port: address.port,
    hostname: address.address,
    finished,
    shutdown,
  };
}

/**
 * Ends a connection whose request failed inside the library (a response body that
 * errors while it is written, say): the error goes to the site's `onError` and only
 * this connection is dropped, never the process.
 */
function dropFailed(site: WebSocketSite, socket: Socket, error: unknown): void {
  siteInternals(site).reportError(error);
  socket.destroy();
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

/**
 * Answers an `upgrade` event: a refusal, plain HTTP, or a WebSocket on the core.
 *
 * @param decided Called once the site has decided: the handshake deadline no longer
 *   applies (a refusal's answer has its own, a WebSocket its link's).
 */
async function upgrade(
  site: WebSocketSite,
  sweeper: Sweeper,
  message: IncomingMessage,
  socket: Socket,
  head: Uint8Array,
  decided: () => void,
): Promise<void> {
  socket.pause();
  // Until a link takes the socket over, an error just ends it.
  const destroy = () => socket.destroy();
  socket.on("error", destroy);
  const refusal = refusalOf(message, site.limits);
  if (refusal !== undefined) {
    decided();
    await writeRawResponse(refusal, socket, site.limits);
    return;
  }
  const incoming = new NodeRequestHead(message);
  const internals = siteInternals(site);
  const answer = await internals.handle(incoming, {
    decided,
    upgrade: (decision) => decision,
  });
  if (answer instanceof Response) {
    await writeRawResponse(answer, socket, site.limits);
    return;
  }
  const decision = answer;
  const agreement = decision.acceptance.perMessageDeflate;
  if (socket.destroyed) return;
  const { acceptance } = decision;
  const headers = acceptHeaders(acceptance, nodeAccept(acceptance.key), agreement?.response);
  let response = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const [name, value] of Object.entries(headers)) response += `${name}: ${value}\r\n`;
  socket.write(response + "\r\n");
  const deflate = decision.route.perMessageDeflate;
  socket.off("error", destroy);
  const link = new SocketLink(
    socket,
    decision.route.limits,
    sweeper,
    agreement && deflate && {
      codec: new DeflateCodec(agreement, deflate),
      threshold: deflate.threshold,
    },
  );
  const session = internals.open({
    link,
    request: incoming.forConnection(),
    decision,
    remoteAddress: socket.remoteAddress,
  });
  link.attach(session, head);
}

/**
 * The Bun.serve adapter: Bun's own HTTP server and `server.upgrade()`, after wsport's
 * handshake checks.
 * @module
 */

import type { CloseInfo } from "../core/close_record.ts";
import { HandshakeError } from "../core/errors.ts";
import type { Limits } from "../core/limits.ts";
import { fileSliceOf } from "../files/file_slice.ts";
import type { Link, NativePubSub } from "../site/link.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import {
  bunDeflateOptions,
  type BunPerMessageDeflate,
  bunPerMessageDeflate,
  reachesThreshold,
} from "./bun_deflate.ts";
import { NativeLink } from "./native_link.ts";
import { closeConnections, type ServeOptions, type Server } from "./server.ts";
import { Sweeper } from "./sweeper.ts";
import { nodeTlsOptions } from "./tls.ts";

/**
 * What wsport keeps in Bun's per-socket `data`: what opening the connection takes, then,
 * once it is open, only its link (the rest would stay for the connection's life).
 */
type SocketData = UpgradeData | { readonly link: BunLink };

/** What `server.upgrade()` passes on to the `open` handler. */
interface UpgradeData {
  readonly site: WebSocketSite;
  readonly request: Request;
  readonly decision: AcceptedUpgrade;
  readonly remoteAddress: string | undefined;
  readonly sweeper: Sweeper;
  /** The server's pub/sub for connections with this one's compression threshold. */
  readonly pubsub: BunPubSub;
  readonly link?: undefined;
}

/** The slice of Bun's `ServerWebSocket` this adapter uses. */
interface BunWebSocket {
  data: SocketData;
  readonly readyState: number;
  send(data: string | Uint8Array, compress?: boolean): number;
  ping(data?: Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  getBufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
}

/** The slice of Bun's `Server` this adapter uses. */
export interface BunServer {
  readonly port: number;
  readonly hostname: string;
  upgrade(request: Request, options: { data: UpgradeData; headers?: HeadersInit }): boolean;
  requestIP(request: Request): { address: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void>;
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
}

/** Bun's `websocket` handler object, as `Bun.serve` and `export default` take it. */
interface BunHandlers {
  open(ws: BunWebSocket): void;
  message(ws: BunWebSocket, message: string | Uint8Array): void;
  pong(ws: BunWebSocket, data: Uint8Array): void;
  drain(ws: BunWebSocket): void;
  close(ws: BunWebSocket, code: number, reason: string): void;
  maxPayloadLength: number;
  idleTimeout: number;
  sendPings: boolean;
  backpressureLimit: number;
  closeOnBackpressureLimit: boolean;
  perMessageDeflate: BunPerMessageDeflate;
}

/** The slice of the `Bun` namespace this adapter uses. */
interface BunNamespace {
  file(path: string): Blob;
  serve(options: {
    /** With `hostname`, a TCP address; or `unix`, a Unix socket's path. */
    port?: number;
    hostname?: string;
    unix?: string;
    reusePort?: boolean;
    tls?: { cert: string; key: string; ca?: string[]; passphrase?: string };
    fetch: (request: Request, server: BunServer) => Promise<Response | undefined>;
    websocket: BunHandlers;
    /** Whether Bun answers a thrown error with its development page (source, paths). */
    development: boolean;
    /** Answers a request whose `fetch` threw. */
    error: (error: unknown) => Response;
  }): BunServer;
}

/** `readyState` of an open WebSocket. */
const OPEN = 1;

const bytes = (data: Uint8Array): Uint8Array =>
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/**
 * Counts the turns in which Bun may have written to a socket on its own: each call Bun
 * makes into the adapter (between them it reads, sends its automatic pongs and flushes),
 * each sweep, and each `publish` (which writes to every subscriber). See
 * {@linkcode BunLink.bufferedAmount}.
 */
let turn = 0;

/**
 * Bun's global `Buffer` (there without importing `node:buffer`, which importing wsport
 * must not load), for its native UTF-8 count; absent where this module is only loaded.
 */
const bunBuffer = (globalThis as { Buffer?: { byteLength(text: string): number } }).Buffer;

class BunLink extends NativeLink {
  readonly ws: BunWebSocket;
  readonly pubsub: BunPubSub;
  /**
   * Whether the socket is `OPEN`, kept here rather than read from `ws.readyState` (a call
   * into Bun that took a sixth of the adapter's JavaScript time per echoed message): it
   * leaves `OPEN` only by this link's `close()` or `terminate()`, or with the close
   * handler, which Bun calls synchronously for its own closes and the peer's.
   */
  #open = true;
  /**
   * The {@linkcode turn} in which `ws.send` last reported the whole message sent, leaving
   * nothing buffered (it returns the bytes sent only then, and -1 once it buffers); -1
   * when unknown.
   */
  #sentAllIn = -1;

  constructor(ws: BunWebSocket, limits: Readonly<Limits>, pubsub: BunPubSub) {
    super(limits, true);
    this.ws = ws;
    this.pubsub = pubsub;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Text counted by Bun's native UTF-8 length: twice as fast as the portable count. */
  protected override byteLength(message: string | Uint8Array): number {
    if (typeof message !== "string" || bunBuffer === undefined) return super.byteLength(message);
    return bunBuffer.byteLength(message);
  }

  override ended(info: CloseInfo): void {
    this.#open = false;
    super.ended(info);
  }

  send(data: string | Uint8Array): void {
    const compress = this.pubsub.compresses(data);
    // 0 means Bun dropped the message (or sent an empty one): never lose one silently,
    // unless the socket is already closing (the peer's Close arrived before the session
    // heard of it).
    const sent = this.ws.send(data, compress);
    this.#sentAllIn = sent > 0 ? turn : -1;
    if (sent === 0 && data.length > 0 && this.ws.readyState === OPEN) {
      this.terminate(1008, "Send buffer overflow");
    }
  }

  ping(data: Uint8Array): boolean {
    this.#sentAllIn = -1;
    this.ws.ping(data);
    return true;
  }

  /**
   * Bun's buffered amount; known to be 0 without asking Bun (a call that took a sixth of
   * the adapter's JavaScript time per echoed message) right after a send that left
   * nothing buffered, until Bun or a publish may have written again.
   */
  get bufferedAmount(): number {
    return this.#sentAllIn === turn ? 0 : this.ws.getBufferedAmount();
  }

  override tick(now: number): void {
    turn++;
    super.tick(now);
  }

  protected nativeClose(code: number, reason: string): void {
    this.#open = false;
    this.ws.close(code, reason);
  }

  protected nativeTerminate(code: number, reason: string): void {
    this.#open = false;
    // Queue the Close frame first, so the peer learns why (terminate() alone just drops
    // TCP, and the peer sees 1006).
    if (code !== 1006 && this.ws.readyState === OPEN) this.ws.close(code, reason);
    this.ws.terminate();
  }
}

/**
 * Bun's pub/sub on one server, for the connections of one compression threshold:
 * uWebSockets sends a message to every subscriber in one call, for about a third of the
 * CPU of a `send` each (1,000 subscribers), with the same bytes in the same order.
 * Bun drops a message only for a connection with more than `backpressureLimit` buffered,
 * twice the `maxSendBufferBytes` past which wsport fails a connection after each publish,
 * so nothing is dropped that one `send` each would have sent. A message is published
 * compressed when a `send` of it would be: uWebSockets compresses it for each subscriber
 * that negotiated permessage-deflate, and sends it plain to the others.
 */
class BunPubSub implements NativePubSub {
  readonly #server: BunServer;
  /** The compression threshold of the routes it serves; `undefined` when they do not compress. */
  readonly #threshold: number | undefined;

  constructor(server: BunServer, threshold: number | undefined) {
    this.#server = server;
    this.#threshold = threshold;
  }

  /** Whether to ask Bun to compress a message (it does only where negotiated). */
  compresses(data: string | Uint8Array): boolean {
    return this.#threshold !== undefined && reachesThreshold(data, this.#threshold);
  }

  subscribe(link: Link, topic: string): void {
    (link as BunLink).ws.subscribe(topic);
  }

  unsubscribe(link: Link, topic: string): void {
    const ws = (link as BunLink).ws;
    if (ws.readyState === OPEN) ws.unsubscribe(topic);
  }

  publish(topic: string, data: string | Uint8Array, except?: Link): void {
    turn++;
    const compress = this.compresses(data);
    // A socket's own publish reaches every subscriber but itself (publishToSelf is off).
    if (except === undefined) this.#server.publish(topic, data, compress);
    else (except as BunLink).ws.publish(topic, data, compress);
  }
}

const pubsubs = new WeakMap<BunServer, Map<number | undefined, BunPubSub>>();

/**
 * The pub/sub of a Bun server for routes with this compression threshold, made on first
 * use. Routes with different thresholds get different ones, so a topic whose subscribers
 * would need different `compress` flags is sent to each in turn instead.
 */
function pubsubOf(server: BunServer, threshold: number | undefined): BunPubSub {
  let byThreshold = pubsubs.get(server);
  if (byThreshold === undefined) pubsubs.set(server, byThreshold = new Map());
  let pubsub = byThreshold.get(threshold);
  if (pubsub === undefined) byThreshold.set(threshold, pubsub = new BunPubSub(server, threshold));
  return pubsub;
}

/**
 * The `websocket` handlers for a site on Bun. Bun's own limits are opened wide and its
 * own pings turned off: wsport enforces each route's limits and runs the heartbeat.
 */
export function bunWebSocketHandlers(site: WebSocketSite): BunHandlers {
  let maxMessageBytes = site.limits.maxMessageBytes;
  let maxSendBufferBytes = site.limits.maxSendBufferBytes;
  for (const route of siteInternals(site).routes.values()) {
    maxMessageBytes = Math.max(maxMessageBytes, route.limits.maxMessageBytes);
    maxSendBufferBytes = Math.max(maxSendBufferBytes, route.limits.maxSendBufferBytes);
  }
  return {
    open(ws) {
      turn++;
      const { site, request, decision, remoteAddress, sweeper, pubsub } = ws.data as UpgradeData;
      const link = new BunLink(ws, decision.route.limits, pubsub);
      ws.data = { link };
      link.opened(site, request, decision, remoteAddress, sweeper);
    },
    message(ws, message) {
      turn++;
      ws.data.link?.received(typeof message === "string" ? message : bytes(message));
    },
    pong(ws, data) {
      turn++;
      ws.data.link?.ponged(bytes(data));
    },
    drain(ws) {
      turn++;
      ws.data.link?.session?.writable();
    },
    close(ws, code, reason) {
      turn++;
      const link = ws.data.link;
      if (link === undefined) return;
      link.ended({ code, reason, wasClean: code !== 1006 });
    },
    // One byte over the largest route limit, so wsport (not Bun) decides on 1009.
    maxPayloadLength: maxMessageBytes + 1,
    idleTimeout: 0,
    sendPings: false,
    // Above the largest send buffer, so wsport's policy (1008) applies first.
    backpressureLimit: maxSendBufferBytes * 2,
    closeOnBackpressureLimit: false,
    perMessageDeflate: bunPerMessageDeflate(bunDeflateOptions(site)),
  };
}

/**
 * `response` with a `files()` body swapped for Bun's own file body: `Bun.serve` drops
 * `Content-Length` for a pulled stream, and sends it (and the file, with `sendfile`) for
 * a `Bun.file()` slice. The stream is cancelled, which closes its file; Bun opens the
 * same real path again. Bun would name the file in `Content-Disposition`, so
 * `inline` is set unless the response has one. Other responses are returned as they are.
 */
function withBunFileBody(response: Response, bun: BunNamespace): Response {
  const slice = response.body === null ? undefined : fileSliceOf(response.body);
  if (slice === undefined) return response;
  response.body!.cancel().catch(() => {});
  const headers = new Headers(response.headers);
  if (!headers.has("content-disposition")) headers.set("content-disposition", "inline");
  return new Response(bun.file(slice.path).slice(slice.start, slice.start + slice.length), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

const sharedSweeper = new Sweeper();

/** The peer's address, from Bun's server. */
export function bunRemoteAddress(request: Request, server: unknown): string | undefined {
  return (server as BunServer | undefined)?.requestIP?.(request)?.address;
}

/** Upgrades an accepted request with Bun's `server.upgrade()`. */
export function upgradeBun(
  site: WebSocketSite,
  request: Request,
  server: BunServer,
  decision: AcceptedUpgrade,
  remoteAddress: string | undefined,
  sweeper: Sweeper = sharedSweeper,
): Response | undefined {
  // Bun compresses server-wide: hide the offer from it on a route that does not.
  if (decision.route.perMessageDeflate === undefined) {
    request.headers.delete("sec-websocket-extensions");
  }
  const upgraded = server.upgrade(request, {
    data: {
      site,
      request,
      decision,
      remoteAddress,
      sweeper,
      pubsub: pubsubOf(server, decision.route.perMessageDeflate?.threshold),
    },
    // Always set: without the header Bun accepts the client's first offer itself; an
    // empty value makes it send none.
    headers: { "Sec-WebSocket-Protocol": decision.acceptance.protocol },
  });
  return upgraded ? undefined : new Response("WebSocket upgrade failed\n", { status: 400 });
}

/**
 * The answer to a request Bun gives a relative URL: an empty `Host`, or none on
 * HTTP/1.0 (Bun refuses HTTP/1.1 without one itself). No URL, so no route to serve.
 */
const noHost = () => new HandshakeError(400, "A request needs a Host header").toResponse();

/**
 * A refused upgrade's response, ending the connection: Bun would read on after it, and
 * take a body the request should not have had for a next request.
 */
function closing(response: Response): Response {
  response.headers.set("Connection", "close");
  return response;
}

/**
 * Serves a site with `Bun.serve`.
 *
 * @example
 * ```ts
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * const server = await serveBun(site, { port: 8080 });
 * ```
 */
export function serveBun(site: WebSocketSite, options: ServeOptions = {}): Promise<Server> {
  const sweeper = new Sweeper();
  const internals = siteInternals(site);
  const bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
  const address = options.path !== undefined ? { unix: options.path } : {
    port: options.port ?? 8080,
    hostname: options.hostname ?? "0.0.0.0",
    reusePort: options.reusePort ?? false,
  };
  const server = bun.serve({
    ...address,
    ...(options.tls === undefined ? {} : { tls: nodeTlsOptions(options.tls) }),
    fetch: (request, server) => {
      if (!URL.canParse(request.url)) return Promise.resolve(noHost());
      const remoteAddress = bunRemoteAddress(request, server);
      return internals.handle(request, {
        upgrade: (decision) => upgradeBun(site, request, server, decision, remoteAddress, sweeper),
        refused: closing,
        served: (response) => withBunFileBody(response, bun),
      });
    },
    websocket: bunWebSocketHandlers(site),
    // Never Bun's development error page (it shows source code and the working
    // directory): a request that fails is reported to the site and gets a plain 500.
    development: false,
    error: (error) => internals.requestFailed(error),
  });
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    shuttingDown ??= (async () => {
      const stopped = server.stop();
      await closeConnections(sweeper.connections, site.limits.closeTimeoutMs);
      await server.stop(true);
      await stopped;
      resolveFinished();
    })();
  options.signal?.addEventListener("abort", () => shutdown(), { once: true });
  return Promise.resolve({
    adapter: "bun",
    ...(options.path === undefined
      ? { port: server.port, hostname: server.hostname }
      : { port: 0, hostname: "", path: options.path }),
    finished,
    shutdown,
  });
}

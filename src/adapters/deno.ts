/**
 * The Deno.serve adapter: Deno's own HTTP server and `Deno.upgradeWebSocket`, after
 * wsport's handshake checks.
 * @module
 */

import { CloseCode } from "../core/constants.ts";
import { HandshakeError } from "../core/errors.ts";
import { headerList } from "../core/handshake.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { NativeLink } from "./native_link.ts";
import { closeConnections, type ServeOptions, type Server, type TlsOptions } from "./server.ts";
import { Sweeper } from "./sweeper.ts";
import { tlsText } from "./tls.ts";

/** The slice of Deno's WebSocket this adapter uses. */
interface DenoWebSocket {
  binaryType: "arraybuffer" | "blob";
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: (() => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** The slice of the `Deno` namespace this adapter uses. */
interface DenoNamespace {
  serve(
    options: {
      /** With `hostname`, a TCP address; or `path`, a Unix socket. */
      port?: number;
      hostname?: string;
      path?: string;
      reusePort?: boolean;
      /** The certificate chain and key, for TLS. */
      cert?: string;
      key?: string;
      signal?: AbortSignal;
      onListen?: () => void;
      /** Answers a request whose handler threw. */
      onError?: (error: unknown) => Response;
    },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): {
    addr: { port: number; hostname: string } | { transport: "unix"; path: string };
    finished: Promise<void>;
    shutdown(): Promise<void>;
  };
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string; idleTimeout?: number },
  ): { socket: DenoWebSocket; response: Response };
  /** Present only with `--unstable-net`, which `reusePort` needs. */
  listenDatagram?: unknown;
}

/** What Deno.serve passes beside the request. */
interface DenoServeInfo {
  remoteAddr?: { hostname?: string };
}

/**
 * The peer's address from Deno.serve's handler info. Read it before any await: the info
 * expires with the request's first turn.
 */
export function denoRemoteAddress(info: unknown): string | undefined {
  try {
    return (info as DenoServeInfo | undefined)?.remoteAddr?.hostname;
  } catch {
    return undefined;
  }
}

function deno(): DenoNamespace {
  return (globalThis as unknown as { Deno: DenoNamespace }).Deno;
}

/** `readyState` of an open WebSocket. */
const OPEN = 1;

class DenoLink extends NativeLink {
  readonly #socket: DenoWebSocket;

  constructor(socket: DenoWebSocket, decision: AcceptedUpgrade) {
    // Deno has no ping API: its own idleTimeout pings instead (see upgradeDeno).
    super(decision.route.limits, false);
    this.#socket = socket;
  }

  get isOpen(): boolean {
    // Deno leaves OPEN at once when close() is called and when the peer's Close arrives,
    // before it reports the close.
    return this.#socket.readyState === OPEN;
  }

  send(data: string | Uint8Array): void {
    // Closing already (the peer's Close arrived before the session heard of it): drop.
    if (this.isOpen) this.#socket.send(data);
  }

  ping(): boolean {
    return false;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  protected nativeClose(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  protected nativeTerminate(code: number, reason: string): void {
    // Deno cannot drop the TCP connection of an upgraded socket: close is the most it has.
    if (code === 1006) this.#socket.close();
    else this.#socket.close(code, reason);
  }
}

const sharedSweeper = new Sweeper();

/**
 * The request as `Deno.upgradeWebSocket` must see it: it checks the chosen subprotocol
 * against the offer split on ", " exactly, so any other spelling of the same list
 * (`a,b`, as the ws client sends it; tabs; empty elements) made it throw, and the client
 * got 500. A Deno.serve request's headers cannot be changed: when the spelling differs,
 * this is a view of the request whose `headers` carry the list as Deno splits it.
 */
function withOfferSpelledForDeno(request: Request): Request {
  const offer = request.headers.get("sec-websocket-protocol");
  if (offer === null) return request;
  const spelled = headerList(offer).join(", ");
  if (spelled === offer) return request;
  const headers = new Headers(request.headers);
  headers.set("sec-websocket-protocol", spelled);
  return new Proxy(request, {
    get: (target, name) => name === "headers" ? headers : Reflect.get(target, name, target),
  });
}

/**
 * Upgrades an accepted request with `Deno.upgradeWebSocket` and wires it to the site.
 * The heartbeat maps to Deno's `idleTimeout` (a ping after half of it, a close 1001 when
 * the other half passes without a pong), in whole seconds.
 */
export function upgradeDeno(
  site: WebSocketSite,
  request: Request,
  decision: AcceptedUpgrade,
  remoteAddress: string | undefined,
  sweeper: Sweeper = sharedSweeper,
): Response {
  const limits = decision.route.limits;
  const idleTimeout = limits.heartbeatIntervalMs > 0
    ? Math.max(1, Math.ceil((limits.heartbeatIntervalMs + limits.heartbeatTimeoutMs) / 1000))
    : 0;
  const { socket, response } = deno().upgradeWebSocket(withOfferSpelledForDeno(request), {
    protocol: decision.acceptance.protocol || undefined,
    idleTimeout,
  });
  socket.binaryType = "arraybuffer";
  const link = new DenoLink(socket, decision);
  socket.onopen = () => link.opened(site, request, decision, remoteAddress, sweeper);
  socket.onmessage = (event) => {
    const data = event.data;
    link.received(typeof data === "string" ? data : new Uint8Array(data));
  };
  socket.onclose = (event) => {
    // Deno reports code 0 when it dropped the connection on a protocol error, without a
    // Close frame: that is an abnormal closure (RFC 6455 §7.1.5).
    const code = event.code === 0 ? CloseCode.AbnormalClosure : event.code;
    link.ended({ code, reason: event.reason, wasClean: event.wasClean });
  };
  socket.onerror = () => {};
  return response;
}

/**
 * The `tls` option as Deno.serve takes it: `ca` appended to the chain (Deno.serve has no
 * `ca`), and an encrypted key decrypted with `node:crypto` (it has no `passphrase`
 * either).
 */
async function denoTls(tls: TlsOptions | undefined): Promise<{ cert?: string; key?: string }> {
  if (tls === undefined) return {};
  const { cert, key, ca, passphrase } = tlsText(tls);
  const chain = [cert, ...ca].map((pem) => pem.trimEnd() + "\n").join("");
  if (passphrase === undefined) return { cert: chain, key };
  const { createPrivateKey } = await import("node:crypto");
  const decrypted = createPrivateKey({ key, passphrase, format: "pem" });
  return { cert: chain, key: decrypted.export({ type: "pkcs8", format: "pem" }) as string };
}

/**
 * Serves a site with `Deno.serve`.
 *
 * @throws {TypeError} For `reusePort` without Deno's `--unstable-net` flag (without it,
 *   Deno would end the process).
 *
 * @example
 * ```ts
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * const server = await serveDeno(site, { port: 8080 });
 * ```
 */
export async function serveDeno(
  site: WebSocketSite,
  options: ServeOptions = {},
): Promise<Server> {
  const reusePort = options.reusePort ?? false;
  if (reusePort && typeof deno().listenDatagram !== "function") {
    throw new TypeError(
      "reusePort with Deno.serve needs Deno's --unstable-net flag (or use the node adapter)",
    );
  }
  const sweeper = new Sweeper();
  const internals = siteInternals(site);
  const controller = new AbortController();
  let shuttingDown: Promise<void> | undefined;
  const address = options.path !== undefined
    ? { path: options.path }
    : { port: options.port ?? 8080, hostname: options.hostname ?? "0.0.0.0", reusePort };
  const server = deno().serve(
    {
      ...address,
      ...await denoTls(options.tls),
      signal: controller.signal,
      onListen: () => {},
      // A request that fails is reported to the site, and gets a plain 500.
      onError: (error) => internals.requestFailed(error),
    },
    (request, info) => {
      const remoteAddress = denoRemoteAddress(info);
      return internals.handle(request, {
        upgrade: (decision) =>
          shuttingDown === undefined
            ? upgradeDeno(site, request, decision, remoteAddress, sweeper)
            : new HandshakeError(503, "Server shutting down").toResponse(),
      });
    },
  );
  const shutdown = () =>
    shuttingDown ??= (async () => {
      // Close the WebSockets before stopping the server: once it is aborted, Deno cuts
      // their closing handshakes short and reports 1005 instead of the peer's answer.
      // But past the close timeout, aborting is the only way to drop a peer that never
      // answers: without it, shutdown would wait for that peer forever.
      const abort = () => controller.abort();
      await closeConnections(sweeper.connections, site.limits.closeTimeoutMs, abort);
      abort();
      await server.finished;
    })();
  options.signal?.addEventListener("abort", () => shutdown(), { once: true });
  const addr = server.addr;
  return {
    adapter: "deno",
    ...("path" in addr
      ? { port: 0, hostname: "", path: addr.path }
      : { port: addr.port, hostname: addr.hostname }),
    finished: server.finished,
    shutdown,
  };
}

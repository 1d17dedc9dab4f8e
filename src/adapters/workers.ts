/**
 * The Cloudflare Workers adapter: a Worker's `fetch` upgrades with `WebSocketPair` after
 * wsport's handshake checks. The runtime (`workerd`) frames the WebSocket itself.
 * @module
 */

import { isValidCloseCode } from "../core/close.ts";
import { CloseCode, MAX_CLOSE_REASON_BYTES } from "../core/constants.ts";
import type { CloseInfo } from "../core/connection.ts";
import type { Limits } from "../core/limits.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import { messageByteLength } from "../site/message.ts";
import type { WebSocketSite } from "../site/site.ts";
import { NativeLink } from "./native_link.ts";
import { Sweeper } from "./sweeper.ts";

/**
 * The slice of the Workers `WebSocket` this adapter uses (declared here so that users
 * need not install `@cloudflare/workers-types`).
 */
export interface WorkersWebSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes sent but not yet written to the network. */
  readonly bufferedAmount?: number;
  /** How binary messages arrive: `"blob"` (the default) or `"arraybuffer"`. */
  binaryType?: string;
  /** Starts the server end of a plain Worker's pair (not for hibernatable sockets). */
  accept(): void;
  /** Sends a message: text for a string, binary for bytes. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Hears each message. */
  addEventListener(
    type: "message",
    listener: (event: { readonly data: string | ArrayBuffer }) => void,
  ): void;
  /** Hears the close. */
  addEventListener(type: "close", listener: (event: CloseInfo) => void): void;
  /** Hears a failure. */
  addEventListener(type: "error", listener: (event: unknown) => void): void;
  /** Durable Objects: keeps a value with the socket, across hibernation. */
  serializeAttachment(value: unknown): void;
  /** Durable Objects: the value kept with {@linkcode WorkersWebSocket.serializeAttachment}. */
  deserializeAttachment(): unknown;
}

/** `WebSocketPair`, the Workers global that makes a client and a server socket. */
type WebSocketPairClass = new () => { 0: WorkersWebSocket; 1: WorkersWebSocket };

/** Whether this is the Workers runtime (`workerd`): it has the `WebSocketPair` global. */
export function isWorkers(): boolean {
  return typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair === "function";
}

/** A new pair of connected sockets: the client's end goes in the 101 response. */
export function webSocketPair(): { client: WorkersWebSocket; server: WorkersWebSocket } {
  const Pair = (globalThis as unknown as { WebSocketPair: WebSocketPairClass }).WebSocketPair;
  const pair = new Pair();
  return { client: pair[0], server: pair[1] };
}

/**
 * The 101 response that hands the client's end to the runtime, with the chosen
 * subprotocol. Compression is the runtime's: `workerd` negotiates permessage-deflate
 * itself when the client offers it (unless the Worker's `no_web_socket_compression`
 * compatibility flag is set), whatever the route's `perMessageDeflate` says.
 */
export function upgradeResponse(client: WorkersWebSocket, protocol: string): Response {
  const headers = protocol === "" ? undefined : { "Sec-WebSocket-Protocol": protocol };
  return new Response(null, { status: 101, headers, webSocket: client } as ResponseInit);
}

/**
 * The peer's address: Cloudflare's `CF-Connecting-IP` header (absent under a local
 * `workerd`, which has no such header and gives no other way).
 */
export function workersRemoteAddress(request: Request): string | undefined {
  return request.headers.get("cf-connecting-ip") ?? undefined;
}

/** `readyState` of an open WebSocket. */
const OPEN = 1;

/** `readyState` of a socket whose closing handshake is over. */
const CLOSED = 3;

/**
 * Answers the peer's Close where the runtime left it to the Worker (a hibernatable
 * socket; a plain Worker with the `web_socket_manual_reply_to_close` flag), RFC 6455
 * §5.5.1: the same code back, none for a Close that had none (1005). A code no peer may
 * send (RFC 6455 §7.4) or a reason over 123 bytes (a Close payload over 125, §5.5), which
 * the runtime hands on, fails the connection with 1002 instead. Gives the close as
 * `connectionLost` reports it: 1002, `wasClean: false`, for those, even where the runtime
 * had answered already by echoing the code.
 */
export function answerClose(
  socket: WorkersWebSocket,
  code: number,
  reason: string,
  wasClean: boolean,
): CloseInfo {
  // 1006 in a clean close came in the peer's Close frame, where it may not be.
  const unsent = code === CloseCode.NoStatusReceived ||
    (code === CloseCode.AbnormalClosure && !wasClean);
  const problem = unsent
    ? undefined
    : !isValidCloseCode(code)
    ? "Invalid close code"
    : messageByteLength(reason) > MAX_CLOSE_REASON_BYTES
    ? "Close frame too long"
    : undefined;
  if (socket.readyState !== CLOSED) {
    try {
      if (unsent) socket.close();
      else if (problem === undefined) socket.close(code, reason);
      else socket.close(CloseCode.ProtocolError, problem);
    } catch {
      // Closed meanwhile: nothing left to answer.
    }
  }
  return problem === undefined
    ? { code, reason, wasClean }
    : { code: CloseCode.ProtocolError, reason: problem, wasClean: false };
}

/**
 * A Workers WebSocket as a link. The standard WebSocket has no ping API.
 *
 * In a plain Worker a socket belongs to the request that opened it: touched from another
 * request's event (a topic published there), even its `readyState` throws. Such a link
 * reads as closed from there, so nothing is sent to it and the sender goes on; the first
 * such error is passed to `onUnreachable` (then no more, not to flood `onError`).
 */
export class WorkersLink extends NativeLink {
  readonly socket: WorkersWebSocket;
  readonly #onUnreachable: (error: unknown) => void;
  #reported = false;

  constructor(
    socket: WorkersWebSocket,
    limits: Readonly<Limits>,
    onUnreachable: (error: unknown) => void,
  ) {
    super(limits, false);
    this.socket = socket;
    this.#onUnreachable = onUnreachable;
  }

  get isOpen(): boolean {
    // workerd leaves OPEN when close() is called, and when the peer's Close arrives.
    return this.#reach(() => this.socket.readyState === OPEN, false);
  }

  send(data: string | Uint8Array): void {
    if (this.isOpen) this.#reach(() => this.socket.send(data), undefined);
  }

  ping(): boolean {
    return false;
  }

  get bufferedAmount(): number {
    return this.#reach(() => this.socket.bufferedAmount ?? 0, 0);
  }

  protected nativeClose(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  protected nativeTerminate(code: number, reason: string): void {
    // A Worker cannot drop the connection: a Close frame is the most it can send, and
    // 1006 may not be sent.
    if (!this.isOpen) return;
    if (code === CloseCode.AbnormalClosure) this.socket.close();
    else this.socket.close(code, reason);
  }

  /** What `use` gives, or `otherwise` when the runtime refuses this request the socket. */
  #reach<T>(use: () => T, otherwise: T): T {
    try {
      return use();
    } catch (error) {
      if (!this.#reported) {
        this.#reported = true;
        this.#onUnreachable(error);
      }
      return otherwise;
    }
  }
}

/**
 * The message as wsport passes it on: text as it came, binary as bytes (the socket is
 * set to give `ArrayBuffer`s, not `Blob`s).
 */
export function workersMessage(data: string | ArrayBuffer): string | Uint8Array {
  return typeof data === "string" ? data : new Uint8Array(data);
}

/**
 * Upgrades an accepted request in a plain Worker (no Durable Object) and wires the new
 * socket to the site. Each connection gets its own deadline timer: a Worker's timers and
 * sockets belong to the request that made them, so one timer cannot serve them all.
 */
export function upgradeWorkers(
  site: WebSocketSite,
  request: Request,
  decision: AcceptedUpgrade,
  remoteAddress: string | undefined,
): Response {
  const internals = siteInternals(site);
  const { client, server } = webSocketPair();
  server.accept();
  server.binaryType = "arraybuffer";
  const link: WorkersLink = new WorkersLink(
    server,
    decision.route.limits,
    (error) => internals.reportError(error, link.session),
  );
  server.addEventListener("message", (event) => link.received(workersMessage(event.data)));
  server.addEventListener("close", (event) => {
    link.ended(answerClose(server, event.code, event.reason, event.wasClean));
  });
  server.addEventListener("error", () => {
    link.ended({ code: CloseCode.AbnormalClosure, reason: "", wasClean: false });
  });
  link.opened(site, request, decision, remoteAddress, new Sweeper());
  return upgradeResponse(client, decision.acceptance.protocol);
}

/**
 * The sockets a Node server watches until each is answered or upgraded (their opening
 * handshake deadline), and the upgrade of one onto wsport's framing: shared by
 * `serveNode()` and the upgrade handler for an existing server.
 * @module
 */

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { GUID } from "../core/constants.ts";
import { HandshakeError } from "../core/errors.ts";
import { acceptHeaders } from "../core/handshake.ts";
import type { Limits } from "../core/limits.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { DeflateCodec } from "./deflate_codec.ts";
import { isRequestTarget, NodeRequestHead, writeRawResponse } from "./node_http.ts";
import { closeConnections, tickIntervalFor, type TrackedConnection } from "./server.ts";
import { SocketLink } from "./socket_link.ts";
import { Sweeper } from "./sweeper.ts";

/**
 * A socket whose request head has not arrived in full yet (its first, or the next one on
 * a kept-alive connection), or whose upgrade the site is still deciding: dropped at the
 * handshake deadline, against slow-loris.
 */
class PendingSocket implements TrackedConnection {
  readonly session = undefined;
  /** When it is dropped, on `performance.now()`'s clock. */
  readonly deadline: number;
  readonly #socket: Socket;
  readonly #onClose: () => void;
  #isClosed = false;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  /** @param onClose Called once if the socket closes before {@linkcode release}. */
  constructor(socket: Socket, deadline: number, onClose: () => void) {
    this.#socket = socket;
    this.deadline = deadline;
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
    if (now >= this.deadline) this.#socket.destroy();
  }

  terminate(): void {
    this.#socket.destroy();
  }
}

/**
 * The rejection for a request head `node:http` parsed but wsport will not serve: more
 * headers than allowed (Node truncates rather than refuse), or a request target that is
 * neither a path nor an absolute URL (`*`, which Node passes on and the URL parser reads
 * as `/*`). `undefined` for a request to serve.
 */
export function refusalOf(
  message: IncomingMessage,
  limits: Readonly<Limits>,
): Response | undefined {
  if (message.rawHeaders.length / 2 > limits.maxHeaderCount) {
    return rejection(431, "Too many request header fields");
  }
  if (!isRequestTarget(message.url ?? "/")) return rejection(400, "Malformed request target");
  return undefined;
}

/** A refusal's response, as the core words it. */
export const rejection = (status: number, message: string): Response =>
  new HandshakeError(status, message).toResponse();

/**
 * Ends a connection whose request failed inside the library (a response body that
 * errors while it is written, say): the error goes to the site's `onError` and only
 * this connection is dropped, never the process.
 */
export function dropFailed(site: WebSocketSite, socket: Socket, error: unknown): void {
  siteInternals(site).reportError(error);
  socket.destroy();
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
 * The sockets of one server (or one upgrade handler): those still in their opening
 * handshake, each with its deadline, and the WebSocket connections upgraded from them,
 * all in one {@linkcode Sweeper}.
 */
export class NodeSockets {
  /** Every tracked connection, pending or upgraded, for deadlines and shutdown. */
  readonly sweeper: Sweeper = new Sweeper();
  readonly #site: WebSocketSite;
  readonly #pending = new Map<Socket, PendingSocket>();

  constructor(site: WebSocketSite) {
    this.#site = site;
  }

  /**
   * Watches a socket until {@linkcode settle}: it is dropped at `deadline` (by default
   * the handshake timeout from now; never when the timeout is 0).
   */
  track(socket: Socket, deadline: number = this.#deadlineFromNow()): void {
    const entry = new PendingSocket(socket, deadline, () => this.settle(socket));
    this.#pending.set(socket, entry);
    this.sweeper.add(entry, tickIntervalFor(this.#site.limits));
  }

  /** Whether a socket is being watched. */
  isTracked(socket: Socket): boolean {
    return this.#pending.has(socket);
  }

  /** Stops watching a socket: its request has arrived, or it closed. */
  settle(socket: Socket): void {
    const entry = this.#pending.get(socket);
    if (entry === undefined) return;
    this.#pending.delete(socket);
    this.sweeper.delete(entry);
    entry.release();
  }

  /**
   * Moves the deadline of a TCP socket, watched from its accept, to the TLS socket made
   * over it once the TLS handshake is done: the deadline still counts from the accept.
   * The TCP socket is the TLS socket's `_parent` on Node and Deno; on Bun both are one
   * socket, reported only once secure.
   */
  secured(socket: Socket): void {
    const parent = (socket as { _parent?: unknown })._parent;
    const tcp = parent instanceof Object ? parent as Socket : socket;
    const deadline = this.#pending.get(tcp)?.deadline ?? this.#deadlineFromNow();
    this.settle(tcp);
    this.track(socket, deadline);
  }

  /**
   * Answers an `upgrade` event: a refusal, plain HTTP, or a WebSocket on the core. The
   * handshake deadline holds while the site decides (an `onUpgrade` hook may never
   * settle); a socket not watched yet is watched from now.
   */
  upgrade(message: IncomingMessage, socket: Socket, head: Uint8Array): void {
    if (!this.isTracked(socket)) this.track(socket);
    const failed = (error: unknown) => dropFailed(this.#site, socket, error);
    try {
      upgrade(this.#site, this.sweeper, message, socket, head, () => this.settle(socket))
        ?.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** Closes every connection with 1001, as a server's shutdown does. */
  close(): Promise<void> {
    return closeConnections(this.sweeper.connections, this.#site.limits.closeTimeoutMs);
  }

  #deadlineFromNow(): number {
    const timeoutMs = this.#site.limits.handshakeTimeoutMs;
    return timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
  }
}

/**
 * Answers an `upgrade` event: a refusal, plain HTTP, or a WebSocket on the core. Where
 * the site decides at once (no `onUpgrade` hook to await), a WebSocket opens in this
 * call, with no promise made and reading never paused (nothing is read before the link
 * listens); otherwise the returned promise settles once the answer is sent.
 *
 * @param decided Called once the site has decided: the handshake deadline no longer
 *   applies (a refusal's answer has its own, a WebSocket its link's).
 */
function upgrade(
  site: WebSocketSite,
  sweeper: Sweeper,
  message: IncomingMessage,
  socket: Socket,
  head: Uint8Array,
  decided: () => void,
): Promise<void> | undefined {
  const refusal = refusalOf(message, site.limits);
  if (refusal !== undefined) {
    decided();
    return answer(refusal, socket, site.limits);
  }
  const incoming = new NodeRequestHead(message);
  const known = siteInternals(site).decideAtOnce(incoming);
  if (known === undefined) return upgradeLater(site, sweeper, incoming, socket, head, decided);
  decided();
  if (known.kind === "reject") return answer(known.response, socket, site.limits);
  openLink(site, sweeper, known, incoming, socket, head);
  return undefined;
}

/** Sends an HTTP answer to an upgrade request, with reading paused; an error ends it. */
function answer(response: Response, socket: Socket, limits: Readonly<Limits>): Promise<void> {
  socket.pause();
  socket.on("error", () => socket.destroy());
  return writeRawResponse(response, socket, limits);
}

/**
 * Answers an upgrade request the site decides on asynchronously (an `onUpgrade` hook,
 * or plain HTTP), with reading paused meanwhile.
 */
async function upgradeLater(
  site: WebSocketSite,
  sweeper: Sweeper,
  incoming: NodeRequestHead,
  socket: Socket,
  head: Uint8Array,
  decided: () => void,
): Promise<void> {
  socket.pause();
  // Until a link takes the socket over, an error just ends it.
  const destroy = () => socket.destroy();
  socket.on("error", destroy);
  const answer = await siteInternals(site).handle(incoming, {
    decided,
    upgrade: (decision) => decision,
  });
  if (answer instanceof Response) {
    await writeRawResponse(answer, socket, site.limits);
    return;
  }
  if (socket.destroyed) return;
  socket.off("error", destroy);
  openLink(site, sweeper, answer, incoming, socket, head);
}

/** Writes the 101 and takes the socket over with a link and its session. */
function openLink(
  site: WebSocketSite,
  sweeper: Sweeper,
  decision: AcceptedUpgrade,
  incoming: NodeRequestHead,
  socket: Socket,
  head: Uint8Array,
): void {
  if (socket.destroyed) return;
  const { acceptance } = decision;
  const agreement = acceptance.perMessageDeflate;
  const headers = acceptHeaders(acceptance, nodeAccept(acceptance.key), agreement?.response);
  let response = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const [name, value] of Object.entries(headers)) response += `${name}: ${value}\r\n`;
  socket.write(response + "\r\n");
  const deflate = decision.route.perMessageDeflate;
  const link = new SocketLink(
    socket,
    decision.route.limits,
    sweeper,
    agreement && deflate && {
      codec: new DeflateCodec(agreement, deflate),
      threshold: deflate.threshold,
    },
  );
  const session = siteInternals(site).open({
    link,
    request: incoming.forConnection(),
    decision,
    // Read from the socket only if asked (see SocketLink.remoteAddress).
    remoteAddress: undefined,
  });
  link.attach(session, head);
}

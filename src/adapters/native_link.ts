/**
 * What the Deno.serve and Bun.serve adapters share: a link over a runtime's native
 * WebSocket, with wsport's liveness deadlines and message-size limit on top.
 * @module
 */

import { CloseCode } from "../core/constants.ts";
import { type CloseInfo, CloseRecord } from "../core/close_record.ts";
import type { Limits } from "../core/limits.ts";
import { Liveness } from "../core/liveness.ts";
import type { Link } from "../site/link.ts";
import { messageByteLength } from "../site/message.ts";
import type { Session } from "../site/session.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { tickIntervalFor, type TrackedConnection } from "./server.ts";
import type { Sweeper } from "./sweeper.ts";

/**
 * A native WebSocket as a {@linkcode Link}. Subclasses say how to send, close and drop.
 *
 * The runtime does the framing; this adds what it lacks: heartbeat pings where it has a
 * ping API, the idle and close timeouts, the per-route message size, and one
 * `connectionLost` with the code wsport chose when it failed the connection itself.
 */
export abstract class NativeLink implements Link, TrackedConnection {
  readonly #limits: Readonly<Limits>;
  readonly #liveness: Liveness;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #session: Session | undefined;
  /** How it ended: the code wsport failed it with wins over what the runtime reports. */
  readonly #record = new CloseRecord();
  #sweeper: Sweeper | undefined;
  /**
   * What arrived since the last tick: 0 nothing, 1 a pong, 2 a message. The liveness
   * clock is read at the tick, not per message: a deadline then counts from the first
   * tick after the last arrival, at most one tick interval later than from the arrival.
   */
  #heard: 0 | 1 | 2 = 0;

  constructor(limits: Readonly<Limits>, canPing: boolean) {
    this.#limits = limits;
    this.#liveness = new Liveness(
      canPing ? limits : { ...limits, heartbeatIntervalMs: 0 },
      performance.now(),
    );
  }

  /** Settles when the runtime has reported the connection closed; made on demand (at shutdown). */
  get closed(): Promise<void> {
    return this.#closed ??= this.#record.ended
      ? Promise.resolve()
      : new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** The session, once open. */
  get session(): Session | undefined {
    return this.#session;
  }

  /**
   * Connects the session. A connection that closed while its handler was being made (Bun
   * reports a close from inside `open`) is reported to it at once.
   */
  set session(session: Session | undefined) {
    this.#session = session;
    const info = this.#record.info;
    if (info !== undefined) session?.closed(info);
  }

  /**
   * The runtime reports the connection open: its deadlines are checked on `sweeper` from
   * now on, and the site makes the handler.
   */
  opened(
    site: WebSocketSite,
    request: Request,
    decision: AcceptedUpgrade,
    remoteAddress: string | undefined,
    sweeper: Sweeper,
  ): void {
    this.#sweeper = sweeper;
    sweeper.add(this, tickIntervalFor(decision.route.limits));
    this.session = siteInternals(site).open({ link: this, request, decision, remoteAddress });
  }

  /** The runtime's own state: its socket is `OPEN`, no close started on either side. */
  abstract get isOpen(): boolean;
  abstract send(data: string | Uint8Array): void;
  abstract ping(data: Uint8Array): boolean;
  abstract get bufferedAmount(): number;
  /** Asks the runtime to start the closing handshake. */
  protected abstract nativeClose(code: number, reason: string): void;
  /** Drops the connection as fast as the runtime allows. */
  protected abstract nativeTerminate(code: number, reason: string): void;

  close(code: number, reason: string): void {
    this.#liveness.closeStarted(performance.now());
    this.nativeClose(code, reason);
  }

  terminate(code: number, reason: string): void {
    if (this.#record.ended) return;
    this.#record.fail(code, reason);
    this.nativeTerminate(code, reason);
    this.#session?.closing();
  }

  /**
   * The runtime delivered a message: it is counted in UTF-8 bytes once, for the size
   * limit and the session alike.
   */
  received(message: string | Uint8Array): void {
    this.#heard = 2;
    const bytes = this.byteLength(message);
    if (bytes > this.#limits.maxMessageBytes) {
      this.terminate(CloseCode.MessageTooBig, "Message too big");
      return;
    }
    this.session?.receive(message, bytes);
  }

  /** A message's size, text in UTF-8: a runtime may count faster than the portable way. */
  protected byteLength(message: string | Uint8Array): number {
    return messageByteLength(message);
  }

  /** The runtime delivered a pong. */
  ponged(data: Uint8Array): void {
    if (this.#heard === 0) this.#heard = 1;
    this.session?.pong(data);
  }

  /** The runtime reports the connection closed. */
  ended(info: CloseInfo): void {
    const ended = this.#record.end(info);
    if (ended === undefined) return;
    this.#sweeper?.delete(this);
    this.#session?.closed(ended);
    this.#resolveClosed?.();
  }

  /** Acts on passed deadlines as the core's {@linkcode Liveness} decides. */
  tick(now: number): void {
    if (this.#record.ended) return;
    if (this.bufferedAmount === 0) this.session?.writable();
    if (this.#heard !== 0) {
      this.#liveness.received(now);
      if (this.#heard === 2) this.#liveness.messageReceived(now);
      this.#heard = 0;
    }
    const action = this.#liveness.due(now);
    if (action?.type === "ping") this.ping(new Uint8Array(0));
    else if (action?.type === "close") this.session?.close(action.code, action.reason);
    else if (action?.type === "fail") this.terminate(action.code, action.reason);
  }
}

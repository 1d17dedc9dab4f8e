/**
 * One connection's life on a site: the handler, its message queue, and the policies
 * every adapter shares (backpressure, errors, exactly-once `connectionLost`).
 * @module
 */

import { checkCloseArguments } from "../core/close.ts";
import { CloseCode, MAX_CONTROL_PAYLOAD_BYTES } from "../core/constants.ts";
import type { CloseInfo } from "../core/connection.ts";
import type { Limits } from "../core/limits.ts";
import { PER_ITEM_BYTES, retain } from "../core/retained_bytes.ts";
import type { HandlerClass, WebSocketHandler } from "./handler.ts";
import type { LifecycleEvent } from "./lifecycle_event.ts";
import type { Link } from "./link.ts";
import { messageByteLength, type PreparedMessage, toMessage } from "./message.ts";
import type { RouteCounters } from "./stats.ts";
import type { Subscriber, Topics } from "./topics.ts";
import type { SubscribeOptions } from "./transport.ts";
import type { Transport } from "./transport.ts";

const EMPTY = new Uint8Array(0);

/**
 * The text a `frameReceived` call is being given, and its size in UTF-8, while the call
 * runs: a handler that writes it on (an echo, a loop over connections) does not have it
 * counted again for each write. Kept no longer, so it pins no message.
 */
let delivering: string | undefined;
let deliveringBytes = 0;

/**
 * A connection's upgrade request, or what makes it on first use: an adapter that can
 * rebuild it from the request head passes a {@linkcode LazyRequest}, so an idle
 * connection keeps no `Request` (with its headers object, URL and signal) until a
 * handler asks.
 */
export type RequestSource = Request | LazyRequest;

/** What makes a connection's upgrade request when first asked for. */
export interface LazyRequest {
  /** Makes the request; called at most once per connection. */
  toRequest(): Request;
}

/** What a session is made from that is its own, given by the adapter. */
export interface SessionInit<Data> {
  link: Link;
  /** The upgrade request, or what makes it on first use (see {@linkcode RequestSource}). */
  request: RequestSource;
  protocol: string;
  data: Data;
  /** The peer's address; `undefined` to ask the link ({@linkcode Link.remoteAddress}). */
  remoteAddress: string | undefined;
}

/**
 * What every session of one route shares, made once by the site: an idle connection
 * keeps a reference to it rather than an object of its own with the same fields.
 */
export interface SessionRoute<Data> {
  handler: HandlerClass<Data>;
  limits: Readonly<Limits>;
  /** The site's topic index, for subscriptions and publishing. */
  topics: Topics;
  /** Reports an error thrown by the handler. */
  onError: (error: unknown, transport: Transport<Data>) => void;
  /** Called once when the connection has closed. */
  onClosed: (session: Session<Data>) => void;
  /** The route's path, for lifecycle events. */
  path: string;
  /** The route's counters, which this connection adds to. */
  counters: RouteCounters;
  /** Told when the connection opens and closes; it must not throw. */
  onLifecycle?: (event: LifecycleEvent) => void;
}

/**
 * A connection as its handler sees it: the {@linkcode Transport} every adapter gives.
 *
 * Messages reach `frameReceived` one at a time: while an async `frameReceived` runs,
 * later messages wait in a queue of at most `maxReceiveQueueBytes`; past it, reading
 * pauses where the link can pause, and otherwise the connection closes with 1008. A send
 * buffer above `maxSendBufferBytes` after a write or a published message fails the
 * connection with 1008: a slow reader is dropped, not buffered without end.
 *
 * Whether it is open is the link's to say ({@linkcode Link.isOpen}): once a close has
 * started, from either side or a timer, nothing more is written, subscriptions have
 * ended, and no more messages reach `frameReceived` (those queued are dropped).
 */
export class Session<Data = unknown> implements Transport<Data>, Subscriber {
  readonly protocol: string;
  readonly data: Data;
  readonly #remoteAddress: string | undefined;
  readonly #route: SessionRoute<Data>;
  readonly #link: Link;
  readonly #counters: RouteCounters;
  /** When the connection opened, by `performance.now()`. */
  #openedAt = 0;
  #handler: WebSocketHandler<Data> | undefined;
  #lost = false;
  #busy = false;
  /** Messages waiting for the handler: made when the first one waits. */
  #queue: (string | Uint8Array)[] | undefined;
  #queuedBytes = 0;
  #paused = false;
  /** Made by the first {@linkcode drained} that waits. */
  #drainWaiters: (() => void)[] | undefined;
  /** Made on the first subscription: most connections never subscribe. */
  #subscriptions: Set<string> | undefined;
  #request: RequestSource;

  /** @param route What the sessions of its route share. */
  constructor(init: SessionInit<Data>, route: SessionRoute<Data>) {
    this.#route = route;
    this.#link = init.link;
    this.#counters = route.counters;
    this.protocol = init.protocol;
    this.#request = init.request;
    this.data = init.data;
    this.#remoteAddress = init.remoteAddress;
  }

  get request(): Request {
    const request = this.#request;
    if (typeof (request as Partial<LazyRequest>).toRequest !== "function") {
      return request as Request;
    }
    return this.#request = (request as LazyRequest).toRequest();
  }

  get remoteAddress(): string | undefined {
    return this.#remoteAddress ?? this.#link.remoteAddress;
  }

  get isOpen(): boolean {
    return !this.#lost && this.#link.isOpen;
  }

  get bufferedAmount(): number {
    return this.#lost ? 0 : this.#link.bufferedAmount;
  }

  /**
   * Counts the connection open, tells `onLifecycle`, and makes the handler; called by
   * the site once the adapter reports the connection open.
   * @param resumed The connection was open before, in a process that kept nothing of it
   *   (a Durable Object woken from hibernation): it counts as open again (not as a new
   *   handshake, and `onLifecycle` hears no second "open"), and the handler is remade
   *   without running its constructor again, with only its `transport` set (instance
   *   fields are not initialised either), so what it must keep belongs in `transport.data`.
   */
  start(resumed = false): void {
    this.#counters.open++;
    this.#openedAt = performance.now();
    if (resumed) {
      const handler = Object.create(this.#route.handler.prototype) as WebSocketHandler<Data>;
      Object.defineProperty(handler, "transport", { value: this, enumerable: true });
      this.#handler = handler;
      return;
    }
    this.#counters.accepted++;
    this.#route.onLifecycle?.({ type: "open", ...this.#lifecycleFields() });
    try {
      this.#handler = new this.#route.handler(this);
    } catch (error) {
      this.#handlerFailed(error);
    }
  }

  write(data: string | Uint8Array | ArrayBuffer): boolean {
    const message = toMessage(data, "write()");
    if (!this.isOpen) return false;
    this.#counters.messagesOut++;
    this.#counters.bytesOut += message === delivering
      ? deliveringBytes
      : messageByteLength(message);
    this.#link.send(message);
    this.checkSendBuffer();
    return true;
  }

  /** Sends a published message: the shared frame where the link takes one. */
  writePrepared(message: PreparedMessage): boolean {
    if (!this.isOpen) return false;
    this.#counters.messagesOut++;
    this.#counters.bytesOut += message.byteLength;
    if (this.#link.sendFrame === undefined) this.#link.send(message.data);
    else this.#link.sendFrame(message.frame);
    this.checkSendBuffer();
    return true;
  }

  subscribe(topic: string, options?: SubscribeOptions): boolean {
    const since = options?.since;
    if (since !== undefined && typeof since !== "string") {
      throw new TypeError(`subscribe(): option "since" must be a string, got ${typeof since}`);
    }
    if (!this.isOpen) return true;
    const complete = this.#route.topics.add(topic, this, this.#link, since);
    (this.#subscriptions ??= new Set()).add(topic);
    return complete;
  }

  unsubscribe(topic: string): void {
    this.#route.topics.delete(topic, this);
    this.#subscriptions?.delete(topic);
  }

  isSubscribed(topic: string): boolean {
    return this.#subscriptions?.has(topic) ?? false;
  }

  publish(topic: string, data: string | Uint8Array | ArrayBuffer): void {
    this.#route.topics.publish(topic, toMessage(data, "publish()"), new Set([this]));
  }

  close(code: number = CloseCode.NormalClosure, reason = ""): void {
    checkCloseArguments(code, reason);
    if (!this.isOpen) return;
    this.#link.close(code, reason);
    this.closing();
  }

  ping(data: Uint8Array = EMPTY): boolean {
    if (data.length > MAX_CONTROL_PAYLOAD_BYTES) {
      throw new RangeError(`Ping payload is ${data.length} bytes; at most 125 are allowed`);
    }
    if (!this.isOpen) return false;
    if (!this.#link.ping(data)) {
      throw new Error("Cannot send a ping: this runtime's WebSocket server has no ping API");
    }
    return true;
  }

  drained(): Promise<void> {
    if (this.#lost || this.#link.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /**
   * Delivers a received message to the handler, or queues it while one is running; drops
   * it once the connection is closing. A queued message outlives the read it may be a
   * view of: it is copied unless it fills at least half of its buffer, so the queue holds
   * at most about twice what it counts. Each counts for its bytes and `PER_ITEM_BYTES`:
   * a flood of empty messages fills the queue too.
   * @param bytes The message's size, text in UTF-8, when the link has counted it already.
   */
  receive(message: string | Uint8Array, bytes: number = messageByteLength(message)): void {
    if (!this.isOpen || this.#handler === undefined) return;
    this.#counters.messagesIn++;
    this.#counters.bytesIn += bytes;
    if (this.#busy || (this.#queue?.length ?? 0) > 0) {
      (this.#queue ??= []).push(typeof message === "string" ? message : retain(message));
      this.#queuedBytes += bytes + PER_ITEM_BYTES;
      if (this.#queuedBytes > this.#route.limits.maxReceiveQueueBytes) this.#queueFull();
      return;
    }
    this.#deliver(message, bytes);
  }

  /** Passes a pong to the handler. */
  pong(data: Uint8Array): void {
    if (this.#lost || this.#handler === undefined) return;
    try {
      this.#handler.pongReceived(data);
    } catch (error) {
      this.#handlerFailed(error);
    }
  }

  /** Wakes those waiting in {@linkcode drained}; called by the adapter on drain. */
  writable(): void {
    if (this.#link.bufferedAmount > 0 && !this.#lost) return;
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /**
   * The connection started closing: its subscriptions end, the messages waiting for the
   * handler are dropped, and reading resumes if the queue had paused it (the peer's Close
   * must still be read). Called by the session itself, and by a link that starts a close
   * on its own; a no-op when done already.
   */
  closing(): void {
    const subscriptions = this.#subscriptions;
    if (subscriptions !== undefined) {
      for (const topic of subscriptions) this.#route.topics.delete(topic, this);
      subscriptions.clear();
    }
    this.#queue = undefined;
    this.#queuedBytes = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#link.resume?.();
    }
  }

  /**
   * Ends the connection after an error raised inside wsport while it handled this
   * connection (not by the handler, whose errors close with 1011 on their own): the error
   * goes to `onError`, and the connection fails at once with 1011. A fault on one
   * connection never reaches the process.
   */
  faulted(error: unknown): void {
    this.#route.onError(error, this);
    this.#link.terminate(CloseCode.InternalError, "Internal error");
    this.closing();
  }

  /**
   * Ends the session: `connectionLost` is called once, whatever calls this, just after
   * the close is counted and `onLifecycle` told.
   */
  closed(info: CloseInfo): void {
    if (this.#lost) return;
    this.#lost = true;
    this.closing();
    this.writable();
    this.#route.onClosed(this);
    this.#counters.closed(info.code);
    this.#route.onLifecycle?.({
      type: "close",
      ...this.#lifecycleFields(),
      code: info.code,
      reason: info.reason,
      wasClean: info.wasClean,
      durationMs: performance.now() - this.#openedAt,
    });
    const handler = this.#handler;
    if (handler === undefined) return;
    try {
      handler.connectionLost(info);
    } catch (error) {
      this.#route.onError(error, this);
    }
  }

  #deliver(message: string | Uint8Array, bytes: number): void {
    let result: unknown;
    // A handler may deliver to another session from inside (a link in memory): restored.
    const outer = delivering;
    const outerBytes = deliveringBytes;
    if (typeof message === "string") {
      delivering = message;
      deliveringBytes = bytes;
    }
    try {
      result = this.#handler!.frameReceived(message);
      // Only a promise (a thenable) makes the next message wait; anything else plain
      // JavaScript returns (null, false) means done.
      if (
        result === undefined || typeof (result as PromiseLike<void> | null)?.then !== "function"
      ) {
        return;
      }
    } catch (error) {
      this.#handlerFailed(error);
      return;
    } finally {
      delivering = outer;
      deliveringBytes = outerBytes;
    }
    this.#busy = true;
    Promise.resolve(result).then(() => this.#settled(), (error) => {
      this.#handlerFailed(error);
      this.#settled();
    });
  }

  #settled(): void {
    this.#busy = false;
    while (!this.#busy && this.isOpen && (this.#queue?.length ?? 0) > 0) {
      const message = this.#queue!.shift()!;
      const bytes = messageByteLength(message);
      this.#queuedBytes -= bytes + PER_ITEM_BYTES;
      this.#deliver(message, bytes);
    }
    if (this.#paused && this.#queuedBytes <= this.#route.limits.maxReceiveQueueBytes / 2) {
      this.#paused = false;
      this.#link.resume?.();
    }
  }

  #queueFull(): void {
    if (this.#link.pause !== undefined) {
      if (!this.#paused) {
        this.#paused = true;
        this.#link.pause();
      }
      return;
    }
    this.#counters.receiveQueueOverflows++;
    this.#link.terminate(CloseCode.PolicyViolation, "Receive queue overflow");
    this.closing();
  }

  /** Counts a published message the runtime's pub/sub sent, and checks the send buffer. */
  sentNatively(message: PreparedMessage): void {
    this.#counters.messagesOut++;
    this.#counters.bytesOut += message.byteLength;
    this.checkSendBuffer();
  }

  /** Fails the connection with 1008 if its send buffer is over `maxSendBufferBytes`. */
  checkSendBuffer(): void {
    // The size first: almost always under, so the link's state is asked only past it.
    if (this.#link.bufferedAmount > this.#route.limits.maxSendBufferBytes && this.isOpen) {
      this.#counters.sendBufferOverflows++;
      this.#link.terminate(CloseCode.PolicyViolation, "Send buffer overflow");
      this.closing();
    }
  }

  /** What both lifecycle events tell of this connection. */
  #lifecycleFields() {
    return {
      route: this.#route.path,
      remoteAddress: this.remoteAddress,
      protocol: this.protocol,
      transport: this as Transport<unknown>,
    };
  }

  #handlerFailed(error: unknown): void {
    this.#route.onError(error, this);
    if (!this.isOpen) return;
    this.#link.close(CloseCode.InternalError, "Internal error");
    this.closing();
  }
}

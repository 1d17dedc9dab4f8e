/**
 * A backplane over Redis pub/sub, on the Redis client you already use.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  optionTypeError,
} from "../core/options.ts";
import type { Backplane } from "../site/backplane.ts";

/**
 * The three Redis commands the backplane needs, on the client of your choice: a few
 * lines adapt node-redis, ioredis or Bun's `RedisClient` (see
 * {@linkcode RedisBackplane}). Redis wants a connection of its own for subscribing, so
 * `subscribe` and `unsubscribe` use one and `publish` another.
 */
export interface RedisPubSub {
  /** PUBLISH: resolves once Redis took the message. */
  publish(channel: string, message: string): Promise<unknown>;
  /** SUBSCRIBE: resolves once Redis confirmed; `listener` gets each message after. */
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  /** UNSUBSCRIBE from the channel, dropping the listener. */
  unsubscribe(channel: string): Promise<unknown>;
}

/**
 * Where a {@linkcode RedisBackplane} stands: subscribing for the first time, up (its
 * last probe came back through Redis), down (one did not, or Redis refused a command),
 * or closed.
 */
export type BackplaneStatus = "connecting" | "up" | "down" | "closed";

/** Options of a {@linkcode RedisBackplane}. */
export interface RedisBackplaneOptions {
  /**
   * The Redis channel: every process whose backplane uses the same channel shares
   * topics. Give each application its own (`"myapp:prod"`): the default is the same for
   * every wsport application, so two of them on one Redis would deliver each other's
   * messages to subscribers of the same topic names. A channel name keeps honest
   * applications apart; it does not keep anyone out (see {@linkcode RedisBackplane}).
   * @default "wsport"
   */
  channel?: string;
  /**
   * How often a probe goes through Redis and back, and how long it may take: a probe
   * that has not come back when the next is due means Redis is down.
   * @default 2_000
   */
  probeIntervalMs?: number;
  /**
   * The first wait before subscribing again once Redis is down; it doubles on each
   * failed attempt up to `retryMaxMs`.
   * @default 100
   */
  retryMinMs?: number;
  /**
   * The longest wait between attempts to subscribe again.
   * @default 10_000
   */
  retryMaxMs?: number;
  /**
   * Most messages sent to Redis and not yet acknowledged; past it, messages reach this
   * process's subscribers only, so a slow or hung Redis cannot grow memory without end.
   * @default 1_024
   */
  maxPendingPublishes?: number;
  /**
   * Most bytes of messages sent to Redis and not yet acknowledged, counted as the Redis
   * client holds them: the length of each message string (its header, then the text, or
   * bytes in base64). Past it, messages reach this process's subscribers only; a message
   * larger than this still goes when nothing else waits. So what waits for a slow or hung
   * Redis stays under `maxPendingPublishes` messages and, for text in the Basic
   * Multilingual Plane, about 3 × this many bytes once encoded in UTF-8.
   * @default 67_108_864 (64 MiB)
   */
  maxPendingBytes?: number;
  /** Called on each change of {@linkcode RedisBackplane.status}. */
  onStatus?: (status: BackplaneStatus) => void;
  /**
   * Called with what went wrong: Redis going down, a failed attempt to subscribe again,
   * messages held back at `maxPendingPublishes` or `maxPendingBytes`, a malformed
   * message on the channel (then skipped), an error thrown while the site delivered a
   * message.
   * @default logs with `console.error`
   */
  onError?: (error: unknown) => void;
}

/** The version of the message format, first in every header. */
const FORMAT = 1;

/** What a message on the channel carries, after its header. */
const Kind = { Text: "t", Binary: "b", Probe: "p" } as const;
type Kind = typeof Kind[keyof typeof Kind];

/**
 * Carries a site's published messages between processes through one Redis pub/sub
 * channel. Each message says which process sent it, so none is delivered twice to its
 * own process, and whether it is text or bytes (bytes travel as base64).
 *
 * A probe goes round through Redis every `probeIntervalMs`. When one does not come back
 * (Redis stopped, a connection lost) the status turns `"down"`, the error is reported,
 * and the backplane subscribes again with exponential backoff until a probe comes back.
 * While down, published messages reach this process's subscribers only: none are queued
 * for later. The Redis clients stay yours: reconnecting them is their job (node-redis,
 * ioredis and Bun reconnect by themselves), and {@linkcode RedisBackplane.close} leaves
 * them open.
 *
 * A message on the channel that is not one a backplane sent (not text, a bad header, an
 * unknown kind or format version, bytes that are not base64) is skipped and reported to
 * `onError`, as is an error thrown while the site delivers a message; the messages
 * around it are delivered all the same.
 *
 * **The channel is trusted.** Messages carry no signature: anyone who can `PUBLISH` on
 * the channel (any client of that Redis, unless its ACLs deny the channel) reaches every
 * subscriber of every topic, in every process, with any text or bytes, under any origin.
 * Keep Redis on a private network, require a password or ACL user, allow the backplane's
 * user only its own channel (`&myapp:*`), and give each application its own `channel`.
 *
 * @example With node-redis
 * ```ts
 * import { createClient } from "redis";
 * import { RedisBackplane, WebSocketSite } from "wsport";
 * const publisher = createClient({ url: "redis://127.0.0.1:6379" });
 * const subscriber = publisher.duplicate();
 * // The backplane reports outages; node-redis needs a listener to not throw.
 * publisher.on("error", () => {});
 * subscriber.on("error", () => {});
 * await Promise.all([publisher.connect(), subscriber.connect()]);
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
 *   unsubscribe: (channel) => subscriber.unsubscribe(channel),
 * }, { channel: "myapp:prod" });
 * const site = new WebSocketSite(undefined, { backplane });
 * ```
 *
 * @example With ioredis (not type-checked: ioredis is not a dependency)
 * ```ts ignore
 * import Redis from "ioredis";
 * const publisher = new Redis("redis://127.0.0.1:6379");
 * const subscriber = new Redis("redis://127.0.0.1:6379");
 * const listeners = new Map<string, (message: string) => void>();
 * subscriber.on("message", (channel, message) => listeners.get(channel)?.(message));
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channel, listener) => {
 *     listeners.set(channel, listener);
 *     return subscriber.subscribe(channel);
 *   },
 *   unsubscribe: (channel) => {
 *     listeners.delete(channel);
 *     return subscriber.unsubscribe(channel);
 *   },
 * });
 * ```
 *
 * @example With Bun's RedisClient (not type-checked: Bun's types are not a dependency)
 * ```ts ignore
 * import { RedisClient } from "bun";
 * const publisher = new RedisClient("redis://127.0.0.1:6379");
 * const subscriber = await publisher.duplicate();
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channel, listener) => subscriber.subscribe(channel, (message) => listener(message)),
 *   unsubscribe: (channel) => subscriber.unsubscribe(channel),
 * });
 * ```
 */
export class RedisBackplane implements Backplane {
  /** This process's id, sent with each message. */
  readonly origin: string = crypto.randomUUID();
  readonly #redis: RedisPubSub;
  readonly #channel: string;
  readonly #probeIntervalMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #maxPendingPublishes: number;
  readonly #maxPendingBytes: number;
  readonly #onStatus: (status: BackplaneStatus) => void;
  readonly #onError: (error: unknown) => void;
  readonly #receive = (message: string) => this.#received(message);
  #listener: ((topic: string, data: string | Uint8Array) => void) | undefined;
  #status: BackplaneStatus = "connecting";
  #pending = 0;
  /** The length of the messages pending. */
  #pendingBytes = 0;
  #overflowing = false;
  #probeId = 0;
  /** Resolves the probe under way, when it comes back. */
  #probeReturned: (() => void) | undefined;
  /** Ends the wait under way (a backoff, an interval, a probe), for close(). */
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts subscribing at once; the status turns `"up"` when the first probe comes back.
   *
   * @param redis The Redis commands, on your client.
   * @param options The channel, the probe interval, the backoff and the hooks.
   * @throws {RangeError} For a negative or non-integer interval, backoff or maximum.
   * @throws {TypeError} When `redis` lacks one of its three functions, `options` is not
   *   an object, an option's name is unknown, `channel` is not a non-empty string, a
   *   number option is not a number, or a hook is not a function.
   */
  constructor(redis: RedisPubSub, options: RedisBackplaneOptions = {}) {
    for (const command of ["publish", "subscribe", "unsubscribe"] as const) {
      if (typeof redis?.[command] !== "function") {
        throw new TypeError(
          `${CALLER}: redis.${command} must be a function, got ${describeValue(redis?.[command])}`,
        );
      }
    }
    const given = checkOptionNames(CALLER, options, Object.keys(OPTION_CHECKS));
    for (const [name, check] of Object.entries(OPTION_CHECKS)) check(given[name]);
    this.#redis = redis;
    this.#channel = options.channel ?? "wsport";
    this.#probeIntervalMs = options.probeIntervalMs ?? 2_000;
    this.#retryMinMs = options.retryMinMs ?? 100;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#maxPendingPublishes = options.maxPendingPublishes ?? 1_024;
    this.#maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 ** 2;
    this.#onStatus = options.onStatus ?? (() => {});
    this.#onError = options.onError ?? ((error) => console.error("wsport backplane:", error));
    this.#run();
  }

  /** Where the backplane stands. */
  get status(): BackplaneStatus {
    return this.#status;
  }

  publish(topic: string, data: string | Uint8Array): void {
    if (this.#status === "down" || this.#status === "closed") return;
    if (this.#pending >= this.#maxPendingPublishes) return this.#overflow();
    const isText = typeof data === "string";
    const message = this.#format(
      isText ? Kind.Text : Kind.Binary,
      topic,
      isText ? data : toBase64(data),
    );
    if (this.#pending > 0 && this.#pendingBytes + message.length > this.#maxPendingBytes) {
      return this.#overflow();
    }
    this.#send(message);
  }

  onMessage(listener: (topic: string, data: string | Uint8Array) => void): void {
    this.#listener = listener;
  }

  /**
   * Stops probing and unsubscribes; the Redis clients stay open. Later messages reach
   * this process's subscribers only.
   * @returns Settles once Redis confirmed, or after `probeIntervalMs` if it does not.
   */
  async close(): Promise<void> {
    if (this.#status === "closed") return;
    this.#setStatus("closed");
    this.#wake?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#redis.unsubscribe(this.#channel).catch(this.#onError),
      new Promise((resolve) => timer = setTimeout(resolve, this.#probeIntervalMs)),
    ]);
    clearTimeout(timer);
  }

  /** Subscribes, then probes until a probe is lost; then again, after a backoff. */
  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closed()) {
      try {
        if (attempt > 0) await this.#redis.unsubscribe(this.#channel);
        await this.#redis.subscribe(this.#channel, this.#receive);
      } catch (error) {
        if (this.#closed()) return;
        this.#onError(error);
        this.#down();
        await this.#sleep(this.#backoff(attempt++));
        continue;
      }
      while (!this.#closed() && await this.#probe()) {
        attempt = 0;
        this.#setStatus("up");
        await this.#sleep(this.#probeIntervalMs);
      }
      if (this.#closed()) return;
      if (this.#status !== "down") {
        this.#onError(new Error(`Redis did not echo a probe within ${this.#probeIntervalMs} ms`));
        this.#down();
      }
      await this.#sleep(this.#backoff(attempt++));
    }
  }

  /** Sends a probe; resolves with whether it came back within the probe interval. */
  #probe(): Promise<boolean> {
    const id = String(++this.#probeId);
    const returned = new Promise<boolean>((resolve) => {
      this.#probeReturned = () => resolve(true);
      this.#timer = setTimeout(() => resolve(false), this.#probeIntervalMs);
      unref(this.#timer);
      this.#wake = () => resolve(false);
    });
    this.#send(this.#format(Kind.Probe, id, ""));
    return returned.finally(() => {
      clearTimeout(this.#timer);
      this.#probeReturned = undefined;
      this.#wake = undefined;
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#timer = setTimeout(resolve, ms);
      unref(this.#timer);
      this.#wake = resolve;
    }).finally(() => {
      clearTimeout(this.#timer);
      this.#wake = undefined;
    });
  }

  /** The wait before attempt `attempt` + 1: doubling, capped, with jitter. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** Math.min(attempt, 30));
    return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
  }

  #format(kind: Kind, topic: string, payload: string): string {
    return JSON.stringify([FORMAT, this.origin, kind, topic]) + "\n" + payload;
  }

  #send(message: string): void {
    this.#pending++;
    this.#pendingBytes += message.length;
    const settled = () => {
      this.#pendingBytes -= message.length;
      return --this.#pending;
    };
    this.#redis.publish(this.#channel, message).then(
      () => {
        if (settled() === 0) this.#overflowing = false;
      },
      (error) => {
        settled();
        if (this.#status === "closed" || this.#status === "down") return;
        this.#onError(error);
        this.#down();
      },
    );
  }

  /** Reports, once until the backlog clears, that messages are not sent to Redis. */
  #overflow(): void {
    if (this.#overflowing) return;
    this.#overflowing = true;
    this.#onError(
      new Error(
        `${this.#pending} messages (${this.#pendingBytes} bytes) are waiting for Redis: ` +
          "later ones reach this process only until it catches up",
      ),
    );
  }

  /**
   * Handles one message from the channel, and never throws: the Redis client calls it
   * for each message of a batch in turn, and a throw would lose the rest of the batch.
   * A malformed message, or an error of the site delivering one, goes to `onError`.
   */
  #received(message: string): void {
    const parsed = parse(message);
    if (typeof parsed === "string") return this.#malformed(parsed, message);
    const { origin, kind, topic, payload } = parsed;
    if (kind === Kind.Probe) {
      if (origin === this.origin && topic === String(this.#probeId)) this.#probeReturned?.();
      return;
    }
    if (origin === this.origin || this.#status === "closed") return;
    const data = kind === Kind.Text ? payload : fromBase64(payload);
    if (data === undefined) return this.#malformed("its payload is not base64", message);
    try {
      this.#listener?.(topic, data);
    } catch (error) {
      this.#onError(error);
    }
  }

  #malformed(reason: string, message: unknown): void {
    const text = String(message);
    const start = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
    this.#onError(
      new Error(`Skipped a malformed message on channel "${this.#channel}": ${reason}: ${start}`),
    );
  }

  #closed(): boolean {
    return this.#status === "closed";
  }

  #down(): void {
    this.#setStatus("down");
    this.#overflowing = false;
  }

  #setStatus(status: BackplaneStatus): void {
    if (this.#status === status || this.#status === "closed") return;
    this.#status = status;
    this.#onStatus(status);
  }
}

/** A message a backplane sent, its payload still encoded. */
interface Parsed {
  origin: string;
  kind: Kind;
  topic: string;
  /** The text, base64 for bytes, empty for a probe. */
  payload: string;
}

/** Parses a message from the channel, or says what is wrong with it. */
function parse(message: unknown): Parsed | string {
  if (typeof message !== "string") return "it is not text";
  const newline = message.indexOf("\n");
  if (newline < 0) return "it has no header line";
  let header: unknown;
  try {
    header = JSON.parse(message.slice(0, newline));
  } catch {
    return "its header is not JSON";
  }
  if (!Array.isArray(header) || header.length !== 4 || header[0] !== FORMAT) {
    return `its header is not [${FORMAT}, origin, kind, topic]`;
  }
  const [, origin, kind, topic] = header;
  if (typeof origin !== "string" || typeof topic !== "string") {
    return "its origin or topic is not a string";
  }
  if (kind !== Kind.Text && kind !== Kind.Binary && kind !== Kind.Probe) {
    return 'its kind is not "t", "b" or "p"';
  }
  return { origin, kind, topic, payload: message.slice(newline + 1) };
}

const CALLER = "new RedisBackplane()";

/** Checks of each option: the type checker keeps the list complete. */
const OPTION_CHECKS: {
  [Name in keyof Required<RedisBackplaneOptions>]: (value: unknown) => void;
} = {
  channel: (value) => {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw optionTypeError(CALLER, "channel", "a non-empty string", value);
    }
  },
  probeIntervalMs: (value) => checkInteger(CALLER, "probeIntervalMs", value, 1),
  retryMinMs: (value) => checkInteger(CALLER, "retryMinMs", value, 1),
  retryMaxMs: (value) => checkInteger(CALLER, "retryMaxMs", value, 1),
  maxPendingPublishes: (value) => checkInteger(CALLER, "maxPendingPublishes", value, 1),
  maxPendingBytes: (value) => checkInteger(CALLER, "maxPendingBytes", value, 1),
  onStatus: (value) => checkType(CALLER, "onStatus", value, "function"),
  onError: (value) => checkType(CALLER, "onError", value, "function"),
};

/** Lets the process exit while the timer waits (Node and Bun; Deno's timers are numbers). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes `text` encodes in base64, or `undefined` when it is not base64. */
function fromBase64(text: string): Uint8Array | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

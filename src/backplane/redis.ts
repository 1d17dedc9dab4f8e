/**
 * A backplane over Redis pub/sub, on the Redis client you already use.
 * @module
 */

import { checkOptionNames, describeValue, optionTypeError } from "../core/options.ts";
import type { Backplane } from "../site/backplane.ts";
import {
  envelopeData,
  formatEnvelope,
  formatPublished,
  Kind,
  malformedError,
  parseEnvelope,
} from "./envelope.ts";
import {
  type BackplaneStatus,
  Lifecycle,
  lifecycleChecks,
  type LifecycleOptions,
} from "./lifecycle.ts";

export type { BackplaneStatus } from "./lifecycle.ts";

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
 * Options of a {@linkcode RedisBackplane}. Past `maxPendingPublishes` or
 * `maxPendingBytes`, messages reach this process's subscribers only, so a slow or hung
 * Redis cannot grow memory without end. `onError` gets Redis going down, a failed attempt
 * to subscribe again, messages held back at those bounds, a malformed message on the
 * channel (then skipped), an error thrown while the site delivered a message.
 */
export interface RedisBackplaneOptions extends LifecycleOptions {
  /**
   * The Redis channel: every process whose backplane uses the same channel shares
   * topics. Give each application its own (`"myapp:prod"`): the default is the same for
   * every wsport application, so two of them on one Redis would deliver each other's
   * messages to subscribers of the same topic names. A channel name keeps honest
   * applications apart; it does not keep anyone out (see {@linkcode RedisBackplane}).
   * @default "wsport"
   */
  channel?: string;
}

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
  readonly #life: Lifecycle;
  readonly #receive = (message: string) => this.#received(message);
  #listener: ((topic: string, data: string | Uint8Array) => void) | undefined;
  #probeId = 0;
  /** Resolves the probe under way, when it comes back. */
  #probeReturned: (() => void) | undefined;

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
    this.#life = new Lifecycle(options);
    this.#run();
  }

  /** Where the backplane stands. */
  get status(): BackplaneStatus {
    return this.#life.status;
  }

  publish(topic: string, data: string | Uint8Array): void {
    const status = this.#life.status;
    if (status === "down" || status === "closed") return;
    const message = formatPublished(this.origin, topic, data);
    if (!this.#life.fits(message.length)) {
      return this.#life.overflow("later ones reach this process only until it catches up");
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
    if (this.#life.closed) return;
    this.#life.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#redis.unsubscribe(this.#channel).catch(this.#life.onError),
      new Promise((resolve) => timer = setTimeout(resolve, this.#life.probeIntervalMs)),
    ]);
    clearTimeout(timer);
  }

  /** Subscribes, then probes until a probe is lost; then again, after a backoff. */
  async #run(): Promise<void> {
    const life = this.#life;
    let attempt = 0;
    while (!life.closed) {
      try {
        if (attempt > 0) await this.#redis.unsubscribe(this.#channel);
        await this.#redis.subscribe(this.#channel, this.#receive);
      } catch (error) {
        if (life.closed) return;
        life.onError(error);
        life.set("down");
        await life.sleep(life.backoff(attempt++));
        continue;
      }
      while (!life.closed && await this.#probe()) {
        attempt = 0;
        life.set("up");
        await life.sleep(life.probeIntervalMs);
      }
      if (life.closed) return;
      if (life.status !== "down") {
        life.onError(new Error(`Redis did not echo a probe within ${life.probeIntervalMs} ms`));
        life.set("down");
      }
      await life.sleep(life.backoff(attempt++));
    }
  }

  /** Sends a probe; resolves with whether it came back within the probe interval. */
  #probe(): Promise<boolean> {
    const id = String(++this.#probeId);
    const returned = this.#life.wait<boolean>((resolve) => {
      this.#probeReturned = () => resolve(true);
      this.#life.timer(this.#life.probeIntervalMs, () => resolve(false));
      return () => resolve(false);
    });
    this.#send(formatEnvelope(this.origin, Kind.Probe, id, ""));
    return returned.finally(() => this.#probeReturned = undefined);
  }

  #send(message: string): void {
    this.#life.hold(message.length);
    this.#redis.publish(this.#channel, message).then(
      () => this.#life.release(message.length),
      (error) => {
        this.#life.release(message.length);
        const status = this.#life.status;
        if (status === "closed" || status === "down") return;
        this.#life.onError(error);
        this.#life.set("down");
      },
    );
  }

  /**
   * Handles one message from the channel, and never throws: the Redis client calls it
   * for each message of a batch in turn, and a throw would lose the rest of the batch.
   * A malformed message, or an error of the site delivering one, goes to `onError`.
   */
  #received(message: string): void {
    const parsed = parseEnvelope(message);
    if (typeof parsed === "string") return this.#malformed(parsed, message);
    const { origin, kind, topic } = parsed;
    if (kind === Kind.Probe) {
      if (origin === this.origin && topic === String(this.#probeId)) this.#probeReturned?.();
      return;
    }
    if (origin === this.origin || this.#life.closed) return;
    const data = envelopeData(parsed);
    if (data === undefined) return this.#malformed("its payload is not base64", message);
    try {
      this.#listener?.(topic, data);
    } catch (error) {
      this.#life.onError(error);
    }
  }

  #malformed(reason: string, message: unknown): void {
    this.#life.onError(malformedError(`channel "${this.#channel}"`, reason, message));
  }
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
  ...lifecycleChecks(CALLER),
};

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
import {
  envelopeData,
  formatEnvelope,
  formatPublished,
  Kind,
  malformedError,
  parseEnvelope,
} from "./envelope.ts";
import { clusterSlot } from "./cluster_slot.ts";
import { Interest } from "./interest.ts";
import {
  type BackplaneStatus,
  Lifecycle,
  lifecycleChecks,
  type LifecycleOptions,
} from "./lifecycle.ts";
import { topicChannel } from "./topic_channel.ts";

export type { BackplaneStatus } from "./lifecycle.ts";

/**
 * The three Redis commands the backplane needs, on the client of your choice: a few
 * lines adapt node-redis, ioredis or Bun's `RedisClient` (see
 * {@linkcode RedisBackplane}). Redis wants a connection of its own for subscribing, so
 * `subscribe` and `unsubscribe` use one and `publish` another. With `sharded: true`
 * they are `SPUBLISH`, `SSUBSCRIBE` and `SUNSUBSCRIBE` on a Redis Cluster client, and
 * each call names channels of one hash slot only.
 */
export interface RedisPubSub {
  /** PUBLISH (or SPUBLISH): resolves once Redis took the message. */
  publish(channel: string, message: string): Promise<unknown>;
  /**
   * SUBSCRIBE (or SSUBSCRIBE) to the channels, in one command: resolves once Redis
   * confirmed; `listener` gets each message on any of them after. The backplane gives
   * the same listener on every call.
   */
  subscribe(channels: string[], listener: (message: string) => void): Promise<unknown>;
  /** UNSUBSCRIBE (or SUNSUBSCRIBE) from the channels, in one command. */
  unsubscribe(channels: string[]): Promise<unknown>;
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
  /**
   * How messages find processes. `"interest"`: each topic has its own channel,
   * `<channel>:<topic>` (see `topicChannel()`), and a process subscribes to it while it
   * has a subscriber for the topic, so a message reaches only the processes that want
   * it. `"broadcast"`: every topic on `channel` itself, so every process receives and
   * decodes every message (the format of wsport before interest routing: use it while
   * older processes share the channel). Every process on a channel must use the same.
   * @default "interest"
   */
  routing?: "interest" | "broadcast";
  /**
   * Whether the commands are Redis Cluster's sharded pub/sub (`SPUBLISH`,
   * `SSUBSCRIBE`, `SUNSUBSCRIBE`): each topic's channel then lives on the node serving
   * its hash slot, subscriptions go in one command per slot, and probes go to 16
   * channels spread over the slots, so a failed node is noticed. Needs
   * `routing: "interest"`. Keep `{` and `}` out of `channel`: a hash tag there would put
   * every topic on one slot.
   * @default false
   */
  sharded?: boolean;
  /**
   * Most channels in one SUBSCRIBE or UNSUBSCRIBE command.
   * @default 1_000
   */
  maxChannelsPerCommand?: number;
  /**
   * Called after each batch while the backplane subscribes again to every topic's
   * channel (after Redis was down), with the channels done and their total.
   */
  onResubscribe?: (done: number, total: number) => void;
}

/**
 * Carries a site's published messages between processes through Redis pub/sub: by
 * default each topic on its own channel, which a process subscribes to only while it has
 * a subscriber for the topic (`routing`), on one Redis or, sharded, on a Redis Cluster.
 * A publish to a topic with no subscriber anywhere costs one command and no delivery.
 * Each message says which process sent it, so none is delivered twice to its own
 * process, and whether it is text or bytes (bytes travel as base64). Messages from one
 * process on one topic arrive in the order it published them.
 *
 * Subscriptions follow the site's topics in batches (see `Interest`): the topics that
 * gain their first subscriber or lose their last in one turn of the event loop, or while
 * commands are under way, go in one command per `maxChannelsPerCommand` channels (per
 * hash slot when sharded). A process gets a topic's messages from when Redis confirms its
 * subscription, a round trip after the topic's first subscriber here joined: what is
 * published before then does not reach it. Each topic subscribed costs this process one map entry and
 * Redis one channel subscription (about 230 bytes on the server, measured on
 * Redis 7.0) until its last
 * subscriber leaves: bound how many topics one connection may subscribe to in your
 * handler if clients choose them.
 *
 * A probe goes round through Redis every `probeIntervalMs`. When one does not come back
 * (Redis stopped, a connection lost) the status turns `"down"`, the error is reported,
 * and the backplane subscribes again with exponential backoff until a probe comes back,
 * then to every topic's channel, in batches (`onResubscribe` reports progress).
 * While down, published messages reach this process's subscribers only: none are queued
 * for later. Pub/sub is at most once: what was published while a process's
 * subscription was lost (Redis restarting, a cluster node failing over) never reaches
 * it, and the status going `"down"` is the report of it. The Redis clients stay yours: reconnecting them is their job (node-redis,
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
 * import { WebSocketSite } from "wsport";
 * import { RedisBackplane } from "wsport/redis";
 * const publisher = createClient({ url: "redis://127.0.0.1:6379" });
 * const subscriber = publisher.duplicate();
 * // The backplane reports outages; node-redis needs a listener to not throw.
 * publisher.on("error", () => {});
 * subscriber.on("error", () => {});
 * await Promise.all([publisher.connect(), subscriber.connect()]);
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channels, listener) => subscriber.subscribe(channels, listener),
 *   unsubscribe: (channels) => subscriber.unsubscribe(channels),
 * }, { channel: "myapp:prod" });
 * const site = new WebSocketSite(undefined, { backplane });
 * ```
 *
 * @example On a Redis Cluster, with node-redis
 * ```ts
 * import { createCluster } from "redis";
 * import { RedisBackplane } from "wsport/redis";
 * const cluster = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] });
 * cluster.on("error", () => {});
 * await cluster.connect();
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => cluster.sPublish(channel, message),
 *   subscribe: (channels, listener) => cluster.sSubscribe(channels, listener),
 *   unsubscribe: (channels) => cluster.sUnsubscribe(channels),
 * }, { channel: "myapp", sharded: true });
 * ```
 *
 * @example With ioredis (not type-checked: ioredis is not a dependency)
 * ```ts ignore
 * import Redis from "ioredis";
 * const publisher = new Redis("redis://127.0.0.1:6379");
 * const subscriber = new Redis("redis://127.0.0.1:6379");
 * let listener: (message: string) => void = () => {};
 * subscriber.on("message", (_channel, message) => listener(message));
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channels, onMessage) => {
 *     listener = onMessage;
 *     return subscriber.subscribe(...channels);
 *   },
 *   unsubscribe: (channels) => subscriber.unsubscribe(...channels),
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
 *   subscribe: (channels, listener) => subscriber.subscribe(channels, (message) => listener(message)),
 *   unsubscribe: (channels) => subscriber.unsubscribe(channels),
 * });
 * ```
 */
export class RedisBackplane implements Backplane {
  /** This process's id, sent with each message. */
  readonly origin: string = crypto.randomUUID();
  readonly #redis: RedisPubSub;
  readonly #channel: string;
  readonly #sharded: boolean;
  readonly #life: Lifecycle;
  /** The topics this process subscribes to; none under `routing: "broadcast"`. */
  readonly #interest: Interest | undefined;
  /** Where probes go: the channel itself under broadcast, else channels of this process. */
  readonly #probeChannels: string[];
  readonly #onResubscribe: (done: number, total: number) => void;
  readonly #receive = (message: string) => this.#received(message);
  #listener: ((topic: string, data: string | Uint8Array) => void) | undefined;
  #probeId = 0;
  /** The probes of the round under way that have not come back, by their index. */
  #probesOut = new Set<number>();
  /** Resolves the probe round under way, once every probe came back. */
  #probeReturned: (() => void) | undefined;

  /**
   * Starts subscribing at once; the status turns `"up"` when the first probe comes back.
   *
   * @param redis The Redis commands, on your client.
   * @param options The channel, the routing, the probe interval, the backoff and the hooks.
   * @throws {RangeError} For a negative or non-integer interval, backoff or maximum.
   * @throws {TypeError} When `redis` lacks one of its three functions, `options` is not
   *   an object, an option's name is unknown, `channel` is not a non-empty string,
   *   `routing` is neither `"interest"` nor `"broadcast"`, `sharded` is not a boolean or
   *   is `true` under broadcast, a number option is not a number, or a hook is not a
   *   function.
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
    const broadcast = options.routing === "broadcast";
    if (broadcast && options.sharded === true) {
      throw new TypeError(`${CALLER}: option "sharded" needs routing "interest"`);
    }
    this.#redis = redis;
    const channel = this.#channel = options.channel ?? "wsport";
    this.#sharded = options.sharded ?? false;
    this.#life = new Lifecycle(options);
    this.#onResubscribe = options.onResubscribe ?? (() => {});
    this.#probeChannels = broadcast
      ? [channel]
      : this.#sharded
      ? spreadOverSlots(`${channel}!${this.origin}`)
      : [`${channel}!${this.origin}`];
    this.#interest = broadcast ? undefined : new Interest({
      channel: (topic) => topicChannel(channel, topic),
      subscribe: (channels) => this.#channelCommand("subscribe", channels),
      unsubscribe: (channels) => this.#channelCommand("unsubscribe", channels),
      group: this.#sharded ? clusterSlot : undefined,
      maxChannelsPerCommand: options.maxChannelsPerCommand ?? 1_000,
      maxCommandsInFlight: 16,
      onError: this.#life.onError,
    });
    this.#run();
  }

  /** Where the backplane stands. */
  get status(): BackplaneStatus {
    return this.#life.status;
  }

  /**
   * What interest routing holds (all zero under `routing: "broadcast"`): `topics` with a
   * subscriber in this process, the `channels` they use (fewer when long names share
   * one), channels `subscribed` on Redis or being subscribed, and channels `changing`
   * (waiting for their SUBSCRIBE or UNSUBSCRIBE to go).
   */
  get interest(): { topics: number; channels: number; subscribed: number; changing: number } {
    return this.#interest?.counts ?? { topics: 0, channels: 0, subscribed: 0, changing: 0 };
  }

  publish(topic: string, data: string | Uint8Array): void {
    const status = this.#life.status;
    if (status === "down" || status === "closed") return;
    const message = formatPublished(this.origin, topic, data);
    if (!this.#life.fits(message.length)) {
      return this.#life.overflow("later ones reach this process only until it catches up");
    }
    this.#send(
      this.#interest === undefined ? this.#channel : topicChannel(this.#channel, topic),
      message,
    );
  }

  onMessage(listener: (topic: string, data: string | Uint8Array) => void): void {
    this.#listener = listener;
  }

  /** Subscribes to the topic's channel (batched with others), under interest routing. */
  subscribe(topic: string): void {
    if (!this.#life.closed) this.#interest?.add(topic);
  }

  /** Unsubscribes from the topic's channel (batched with others), under interest routing. */
  unsubscribe(topic: string): void {
    if (!this.#life.closed) this.#interest?.delete(topic);
  }

  /**
   * Stops probing and unsubscribes from every channel; the Redis clients stay open.
   * Later messages reach this process's subscribers only.
   * @returns Settles once Redis confirmed, or after `probeIntervalMs` if it does not.
   */
  async close(): Promise<void> {
    if (this.#life.closed) return;
    this.#life.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([this.#probeCommand("unsubscribe"), this.#interest?.clear()]).catch(
        this.#life.onError,
      ),
      new Promise((resolve) => timer = setTimeout(resolve, this.#life.probeIntervalMs)),
    ]);
    clearTimeout(timer);
  }

  /**
   * Subscribes to the probe channels and every topic's, then probes until a probe is
   * lost; then again, after a backoff.
   */
  async #run(): Promise<void> {
    const life = this.#life;
    let attempt = 0;
    while (!life.closed) {
      try {
        // So that a client that thinks it still subscribes does subscribe again; a
        // command left unanswered (to a node gone for good) does not stop the attempt.
        if (attempt > 0) await this.#probeCommand("unsubscribe").catch(() => {});
        await this.#probeCommand("subscribe");
        // Its failures are reported as they happen.
        const resubscribed = await this.#interest?.resubscribe(this.#onResubscribe) ?? true;
        if (!resubscribed) throw undefined;
      } catch (error) {
        if (life.closed) return;
        if (error !== undefined) life.onError(error);
        this.#down();
        await life.sleep(life.backoff(attempt++));
        continue;
      }
      let lost: number[] = [];
      while (!life.closed && (lost = await this.#probe()).length === 0) {
        attempt = 0;
        life.set("up");
        this.#interest?.retryFailed();
        await life.sleep(life.probeIntervalMs);
      }
      if (life.closed) return;
      if (life.status !== "down") {
        const channels = lost.map((index) => this.#probeChannels[index]).join(", ");
        life.onError(
          new Error(`Redis did not echo a probe within ${life.probeIntervalMs} ms on ${channels}`),
        );
        this.#down();
      }
      await life.sleep(life.backoff(attempt++));
    }
  }

  #down(): void {
    this.#interest?.pause();
    this.#life.set("down");
  }

  /** Subscribes to the probe channels or unsubscribes, one command per slot if sharded. */
  #probeCommand(command: "subscribe" | "unsubscribe"): Promise<unknown> {
    const groups = this.#sharded
      ? this.#probeChannels.map((channel) => [channel])
      : [this.#probeChannels];
    return Promise.all(groups.map((channels) => this.#channelCommand(command, channels)));
  }

  /**
   * Subscribes to channels or unsubscribes, failing when Redis has not answered within
   * `probeIntervalMs`: a command queued for a cluster node that died is never answered,
   * and the backplane must go on to try again once the client found the node's replica.
   */
  #channelCommand(command: "subscribe" | "unsubscribe", channels: string[]): Promise<unknown> {
    const ms = this.#life.probeIntervalMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer ${command.toUpperCase()} within ${ms} ms`)),
        ms,
      );
    });
    const answer = command === "subscribe"
      ? this.#redis.subscribe(channels, this.#receive)
      : this.#redis.unsubscribe(channels);
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Sends a probe on each probe channel; resolves with the indexes of those that did not
   * come back within the probe interval (none: Redis is there).
   */
  #probe(): Promise<number[]> {
    const id = String(++this.#probeId);
    const out = this.#probesOut = new Set(this.#probeChannels.keys());
    const returned = this.#life.wait<number[]>((resolve, timer) => {
      this.#probeReturned = () => resolve([]);
      timer(this.#life.probeIntervalMs, () => resolve([...out]));
      return () => resolve([...out]);
    });
    this.#probeChannels.forEach((channel, index) => {
      this.#send(channel, formatEnvelope(this.origin, Kind.Probe, `${id}/${index}`, ""));
    });
    return returned.finally(() => this.#probeReturned = undefined);
  }

  #send(channel: string, message: string): void {
    this.#life.hold(message.length);
    this.#redis.publish(channel, message).then(
      () => this.#life.release(message.length),
      (error) => {
        this.#life.release(message.length);
        const status = this.#life.status;
        if (status === "closed" || status === "down") return;
        this.#life.onError(error);
        this.#down();
      },
    );
  }

  /**
   * Handles one message from a channel, and never throws: the Redis client calls it
   * for each message of a batch in turn, and a throw would lose the rest of the batch.
   * A malformed message, or an error of the site delivering one, goes to `onError`.
   */
  #received(message: string): void {
    const parsed = parseEnvelope(message);
    if (typeof parsed === "string") return this.#malformed(parsed, message);
    const { origin, kind, topic } = parsed;
    if (kind === Kind.Probe) {
      if (origin !== this.origin) return;
      const [id, index] = topic.split("/");
      if (id !== String(this.#probeId)) return;
      this.#probesOut.delete(Number(index));
      if (this.#probesOut.size === 0) this.#probeReturned?.();
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
    const where = this.#interest === undefined
      ? `channel "${this.#channel}"`
      : `the channels of "${this.#channel}"`;
    this.#life.onError(malformedError(where, reason, message));
  }
}

/**
 * Sixteen channel names `<base>!<n>`, one in each sixteenth of the hash slots (when
 * `base` sets no hash tag), so that probes on them reach every node of a cluster whose
 * nodes serve ranges of at least 1,024 slots.
 */
function spreadOverSlots(base: string): string[] {
  const channels = new Set<string>();
  for (let range = 0, n = 0; range < 16; range++) {
    for (let tries = 0; tries < 1_000; tries++, n++) {
      if (clusterSlot(`${base}!${n}`) >> 10 === range) {
        channels.add(`${base}!${n}`);
        break;
      }
    }
  }
  if (channels.size === 0) channels.add(base);
  return [...channels];
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
  routing: (value) => {
    if (value !== undefined && value !== "interest" && value !== "broadcast") {
      throw optionTypeError(CALLER, "routing", '"interest" or "broadcast"', value);
    }
  },
  sharded: (value) => checkType(CALLER, "sharded", value, "boolean"),
  maxChannelsPerCommand: (value) => checkInteger(CALLER, "maxChannelsPerCommand", value, 1),
  onResubscribe: (value) => checkType(CALLER, "onResubscribe", value, "function"),
  ...lifecycleChecks(CALLER),
};

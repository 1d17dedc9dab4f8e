/**
 * Which topics a process wants from Redis, and the batched commands that keep Redis's
 * subscriptions in step with it: the interest-based routing of both Redis backplanes.
 * @module
 */

/** The commands and the rules an {@linkcode Interest} works with. */
export interface InterestOptions {
  /** The channel of a topic (see `topicChannel()`). */
  channel(topic: string): string;
  /**
   * Subscribes to channels, all of one group: resolves once Redis confirmed. The
   * `RedisBackplane` gives `SUBSCRIBE` or `SSUBSCRIBE`; the streams backplane may give
   * a function that starts reading the topics' streams.
   */
  subscribe(channels: string[]): Promise<unknown>;
  /** Unsubscribes from channels, all of one group. */
  unsubscribe(channels: string[]): Promise<unknown>;
  /**
   * The group a channel belongs to: channels of different groups never share a command
   * (sharded pub/sub takes only channels of one hash slot per command: give
   * `clusterSlot`). Without it, any channels share a command.
   */
  group?: (channel: string) => number;
  /** Most channels in one command. */
  maxChannelsPerCommand: number;
  /** Most commands sent at once, before waiting for their answers. */
  maxCommandsInFlight: number;
  /** Gets a command that failed (its channels count as not subscribed). */
  onError(error: unknown): void;
}

/** Counts of an {@linkcode Interest}, for status and tests. */
export interface InterestCounts {
  /** Topics with a subscriber in this process. */
  topics: number;
  /** Channels those topics use (fewer, when long topic names share one). */
  channels: number;
  /** Channels subscribed on Redis, or being subscribed. */
  subscribed: number;
  /** Channels whose subscription has yet to change. */
  changing: number;
}

/**
 * The topics a process wants and the channels it subscribes to on Redis, for
 * interest-based routing: a channel is subscribed when the first topic on it is
 * {@linkcode Interest.add}ed and unsubscribed when the last is
 * {@linkcode Interest.delete}d.
 *
 * Changes are batched: those made in one turn of the event loop, and all those made
 * while commands are under way, go out together, at most `maxChannelsPerCommand`
 * channels per command and `maxCommandsInFlight` commands at a time, so a storm of
 * joins costs a few commands. A topic added and deleted before its batch goes costs
 * none.
 *
 * Memory is one map entry per channel wanted (its name and a count of topics) and one
 * set entry per channel subscribed, both dropped when the last topic leaves: it grows
 * with the topics this process's connections subscribe to, and with nothing else.
 *
 * @example Plugging it into a backplane
 * ```ts
 * import { Interest } from "./interest.ts";
 * import { topicChannel } from "./topic_channel.ts";
 * const interest = new Interest({
 *   channel: (topic) => topicChannel("myapp", topic),
 *   subscribe: async (channels) => {},
 *   unsubscribe: async (channels) => {},
 *   maxChannelsPerCommand: 1_000,
 *   maxCommandsInFlight: 16,
 *   onError: console.error,
 * });
 * interest.add("room"); // from Backplane.subscribe(), when "room" gets its first subscriber
 * await interest.settled();
 * ```
 */
export class Interest {
  readonly #options: InterestOptions;
  /** Each channel wanted, and how many topics use it. */
  readonly #wanted = new Map<string, number>();
  /** Channels subscribed on Redis, or whose subscribe is under way. */
  #subscribed = new Set<string>();
  /** Channels whose subscription may differ from what is wanted. */
  #dirty = new Set<string>();
  #topics = 0;
  #paused = false;
  #flushing: Promise<void> | undefined;
  /** Channels whose last command failed, to send again at the next retryFailed(). */
  #failed = new Set<string>();
  /** Commands that failed, ever. */
  #failures = 0;
  /** Progress of a resubscription under way: channels done, of how many. */
  #resync:
    | { done: number; total: number; progress: (done: number, total: number) => void }
    | undefined;

  /** Takes the commands and rules (see {@linkcode InterestOptions}). */
  constructor(options: InterestOptions) {
    this.#options = options;
  }

  /** Counts topics and channels, wanted, subscribed and changing. */
  get counts(): InterestCounts {
    return {
      topics: this.#topics,
      channels: this.#wanted.size,
      subscribed: this.#subscribed.size,
      changing: this.#dirty.size,
    };
  }

  /** Whether a channel is wanted. */
  wants(channel: string): boolean {
    return this.#wanted.has(channel);
  }

  /** Adds a topic: call it once per topic, when it gets its first subscriber here. */
  add(topic: string): void {
    const channel = this.#options.channel(topic);
    const count = this.#wanted.get(channel) ?? 0;
    this.#wanted.set(channel, count + 1);
    this.#topics++;
    if (count === 0) this.#change(channel);
  }

  /** Deletes a topic: call it once, when its last subscriber here leaves. */
  delete(topic: string): void {
    const channel = this.#options.channel(topic);
    const count = this.#wanted.get(channel);
    if (count === undefined) return;
    this.#topics--;
    if (count > 1) return void this.#wanted.set(channel, count - 1);
    this.#wanted.delete(channel);
    this.#change(channel);
  }

  /**
   * Deletes every topic, unsubscribing from every channel.
   * @returns Resolves once Redis answered.
   */
  clear(): Promise<void> {
    for (const channel of this.#wanted.keys()) this.#dirty.add(channel);
    this.#wanted.clear();
    this.#topics = 0;
    this.#kick();
    return this.settled();
  }

  /** Holds changes back (Redis is down) until {@linkcode Interest.resubscribe}. */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Subscribes again to every channel wanted (Redis may have lost them all) and
   * unsubscribes from those no longer wanted, in batches, calling `progress` with the
   * channels subscribed so far and their total after each batch.
   * @returns Resolves once done; `false` when a command failed (reported to `onError`).
   */
  async resubscribe(progress: (done: number, total: number) => void = () => {}): Promise<boolean> {
    this.#paused = false;
    for (const channel of this.#wanted.keys()) this.#subscribed.delete(channel);
    for (const channel of this.#subscribed) this.#dirty.add(channel);
    for (const channel of this.#wanted.keys()) this.#dirty.add(channel);
    this.#resync = { done: 0, total: this.#wanted.size, progress };
    this.#failed.clear();
    const failures = this.#failures;
    try {
      this.#kick();
      await this.settled();
    } finally {
      this.#resync = undefined;
    }
    return this.#failures === failures;
  }

  /**
   * Sends again the changes whose command failed (a timeout, a refused channel): call it
   * when Redis answers again (the `RedisBackplane` does, after each probe that came back).
   */
  retryFailed(): void {
    for (const channel of this.#failed) this.#dirty.add(channel);
    this.#failed.clear();
    this.#kick();
  }

  /** Resolves once every change made so far has been sent and answered. */
  async settled(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  #change(channel: string): void {
    this.#dirty.add(channel);
    this.#kick();
  }

  /** Starts sending the changes, pass after pass, unless paused or already sending. */
  #kick(): void {
    if (this.#paused || this.#flushing !== undefined || this.#dirty.size === 0) return;
    this.#flushing = (async () => {
      await null; // the changes made in this turn of the event loop go together
      while (this.#dirty.size > 0 && !this.#paused) await this.#pass();
    })().finally(() => {
      this.#flushing = undefined;
      this.#kick();
    });
  }

  /** Sends the changes waiting now, in batches, and waits for their answers. */
  async #pass(): Promise<void> {
    const { group, maxChannelsPerCommand, maxCommandsInFlight } = this.#options;
    const open = new Map<string, { subscribe: boolean; channels: string[] }>();
    const batches: { subscribe: boolean; channels: string[] }[] = [];
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const channel of dirty) {
      const subscribe = this.#wanted.has(channel);
      if (subscribe === this.#subscribed.has(channel)) continue;
      if (subscribe) this.#subscribed.add(channel);
      else this.#subscribed.delete(channel);
      const key = `${subscribe ? "s" : "u"}${group?.(channel) ?? ""}`;
      let batch = open.get(key);
      if (batch === undefined) {
        open.set(key, batch = { subscribe, channels: [] });
        batches.push(batch);
      }
      batch.channels.push(channel);
      if (batch.channels.length >= maxChannelsPerCommand) open.delete(key);
    }
    for (let i = 0; i < batches.length; i += maxCommandsInFlight) {
      await Promise.all(
        batches.slice(i, i + maxCommandsInFlight).map((batch) => this.#send(batch)),
      );
    }
  }

  async #send(batch: { subscribe: boolean; channels: string[] }): Promise<void> {
    const { channels, subscribe } = batch;
    try {
      await (subscribe ? this.#options.subscribe(channels) : this.#options.unsubscribe(channels));
    } catch (error) {
      // Not changed after all: retryFailed() or resubscribe() tries again.
      for (const channel of channels) {
        if (subscribe) this.#subscribed.delete(channel);
        else if (!this.#wanted.has(channel)) this.#subscribed.add(channel);
        this.#failed.add(channel);
      }
      this.#failures++;
      this.#options.onError(error);
      return;
    }
    const resync = this.#resync;
    if (subscribe && resync !== undefined) {
      resync.done = Math.min(resync.total, resync.done + channels.length);
      resync.progress(resync.done, resync.total);
    }
  }
}

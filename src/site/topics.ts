/**
 * A site's topic index: which connections subscribe to what, and delivery to them.
 * @module
 */

import type { Backplane } from "./backplane.ts";
import type { Link, NativePubSub } from "./link.ts";
import { PreparedMessage } from "./message.ts";
import { compareIds, type ReplayOptions, ReplayWindow } from "./replay.ts";

/** What a topic delivers to: a connection's session. */
export interface Subscriber {
  /**
   * Sends a published message, under the same send-buffer limit as any write.
   * @returns `false` when the connection is closing or closed.
   */
  writePrepared(message: PreparedMessage): boolean;
  /**
   * Counts a message that went out to it through the runtime's own pub/sub, then fails
   * the connection with 1008 if its send buffer is over the limit.
   */
  sentNatively(message: PreparedMessage): void;
}

/** One delivery waiting for the one under way. */
interface Delivery {
  readonly topic: string;
  readonly id: string;
  readonly message: PreparedMessage;
  readonly except: ReadonlySet<unknown> | undefined;
}

/**
 * One topic's subscribers, with their links, the native pub/subs that reach them, and
 * the floors of those that subscribed `since` an id.
 */
class Topic {
  readonly subscribers = new Map<Subscriber, Link>();
  /**
   * The newest id each subscriber made `since` an id has already (given back, or
   * replayed): live messages up to it are not sent to it. Forgotten once a newer one
   * passes, so it holds one entry per such subscription at most, and briefly.
   */
  readonly floors = new Map<Subscriber, string>();
  /** How many subscribers each native pub/sub reaches (`undefined`: none does). */
  readonly #reach = new Map<NativePubSub | undefined, number>();

  /** The native pub/sub that reaches every subscriber, when one does. */
  get pubsub(): NativePubSub | undefined {
    return this.#reach.size === 1 ? this.#reach.keys().next().value : undefined;
  }

  reached(pubsub: NativePubSub | undefined, change: 1 | -1): void {
    const count = (this.#reach.get(pubsub) ?? 0) + change;
    if (count === 0) this.#reach.delete(pubsub);
    else this.#reach.set(pubsub, count);
  }

  /** Whether message `id` may go to `subscriber`: not up to its floor, which a newer id ends. */
  passes(subscriber: Subscriber, id: string): boolean {
    const floor = this.floors.get(subscriber);
    if (floor === undefined) return true;
    if (compareIds(id, floor) <= 0) return false;
    this.floors.delete(subscriber);
    return true;
  }

  /** Whether a floor holds message `id` back from some subscriber (ending those it passes). */
  holdsBack(id: string): boolean {
    let held = false;
    for (const subscriber of this.floors.keys()) {
      if (!this.passes(subscriber, id)) held = true;
    }
    return held;
  }
}

let sites = 0;

/**
 * The subscribers of each topic on one site, whatever adapter serves them, and the
 * backplane that links the site to other processes.
 *
 * Every subscriber gets the messages of a topic in the order they were published: a
 * message published while another is being delivered (from a `connectionLost` that the
 * delivery caused, say) waits until that delivery is done.
 *
 * A subscriber added `since` an id gets each message once across the seam: the kept
 * ones after the id, then live ones newer than the last of those (or than the id, when
 * this process has not delivered it yet: a client that saw it through another process
 * reading the same stream faster).
 *
 * When every subscriber of a topic is reachable through one native pub/sub (all on one
 * Bun.serve server) and `except` leaves out at most one of them, the message goes out
 * through it, in one call, and each subscriber's send buffer is checked after; otherwise
 * each subscriber is sent the message in turn (and so while a floor holds the message
 * back from one of them).
 */
export class Topics {
  readonly #topics = new Map<string, Topic>();
  readonly #backplane: Backplane | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #queue: Delivery[] = [];
  /** Prefixes topic names in native pub/subs, which other sites may share. */
  readonly #prefix = `wsport${++sites}:`;
  /** The first part of this process's own message ids. */
  readonly #epoch = Date.now();
  #count = 0;
  readonly #window: ReplayWindow;
  readonly #encode:
    | ((data: string | Uint8Array, id: string, topic: string) => string | Uint8Array)
    | undefined;

  /**
   * @param backplane Where to forward published messages, and where messages from
   *   other processes come from.
   * @param onError Reports an error thrown by the backplane.
   * @param options What to keep for replay, and how to encode a message with its id.
   */
  constructor(
    backplane: Backplane | undefined,
    onError: (error: unknown) => void,
    options: {
      replay?: ReplayOptions;
      encode?: (data: string | Uint8Array, id: string, topic: string) => string | Uint8Array;
    } = {},
  ) {
    this.#backplane = backplane;
    this.#onError = onError;
    // One id space: an ordered backplane's ids, the same in every process, or else
    // this process's own, given to every message it delivers.
    const ordered = backplane?.ordered === true;
    this.#window = new ReplayWindow(options.replay, ordered ? undefined : `${this.#epoch}-0`);
    this.#encode = options.encode;
    backplane?.onMessage((topic, data, id, except) =>
      this.#deliver(topic, data, (ordered ? id : undefined) ?? this.#nextId(), except)
    );
  }

  /**
   * Adds a subscriber to a topic; given `since`, first sends it the kept messages after
   * that id, and from then on only messages newer than those (or than `since`).
   * @param link The subscriber's link, through whose native pub/sub it may be reached.
   * @returns `false` when messages after `since` may be missing (not kept, never seen
   *   by this process, or `since` is an id this process cannot place: another process's
   *   own, with the pub/sub backplane or none).
   * @throws {TypeError} When `topic` is not a string.
   */
  add(name: string, subscriber: Subscriber, link: Link, since?: string): boolean {
    checkTopic(name);
    let topic = this.#topics.get(name);
    let reaches = true;
    if (topic === undefined) {
      this.#topics.set(name, topic = new Topic());
      reaches = this.#tellBackplane("subscribe", name, since) !== false;
      // Routed by interest, the topic's messages from other processes came here only
      // while it had a subscriber: what came before may have passed by, unless a
      // backplane that keeps a log takes the topic from `since` on.
      if (this.#backplane?.subscribe !== undefined) {
        const vouched = reaches && since !== undefined && this.#backplane.ordered === true;
        this.#window.joined(name, vouched ? since : undefined);
      }
    }
    if (topic.subscribers.has(subscriber)) return true;
    let complete = true;
    if (since !== undefined) {
      const replayed = this.#window.since(name, since);
      for (const message of replayed.messages) subscriber.writePrepared(message);
      complete = replayed.complete && reaches;
      if (replayed.floor !== undefined) topic.floors.set(subscriber, replayed.floor);
    }
    topic.subscribers.set(subscriber, link);
    link.pubsub?.subscribe(link, this.#prefix + name);
    topic.reached(link.pubsub, 1);
    return complete;
  }

  /**
   * Removes a subscriber from a topic.
   * @throws {TypeError} When `topic` is not a string.
   */
  delete(name: string, subscriber: Subscriber): void {
    checkTopic(name);
    const topic = this.#topics.get(name);
    const link = topic?.subscribers.get(subscriber);
    if (topic === undefined || link === undefined) return;
    topic.subscribers.delete(subscriber);
    topic.floors.delete(subscriber);
    link.pubsub?.unsubscribe(link, this.#prefix + name);
    topic.reached(link.pubsub, -1);
    if (topic.subscribers.size > 0) return;
    this.#topics.delete(name);
    this.#window.left(name);
    this.#tellBackplane("unsubscribe", name);
  }

  /**
   * Tells the backplane a topic gained its first subscriber here (`since` an id, when the
   * subscriber resumes), or lost its last; gives its answer (`false`: messages after
   * `since` will not reach this process).
   */
  #tellBackplane(change: "subscribe" | "unsubscribe", name: string, since?: string): unknown {
    try {
      return this.#backplane?.[change]?.(name, since);
    } catch (error) {
      this.#onError(error);
      return false;
    }
  }

  /** How many connections of this process subscribe to a topic. */
  count(name: string): number {
    return this.#topics.get(name)?.subscribers.size ?? 0;
  }

  /**
   * Sends a message to every subscriber of a topic in this process, but those in
   * `except`, then hands it to the backplane for the other processes; with an `ordered`
   * backplane, only hands it over, and delivers it when it comes back.
   * @throws {TypeError} When `topic` is not a string.
   */
  publish(name: string, data: string | Uint8Array, except?: ReadonlySet<unknown>): void {
    checkTopic(name);
    if (this.#backplane?.ordered !== true) this.#deliver(name, data, this.#nextId(), except);
    if (this.#backplane === undefined) return;
    try {
      this.#backplane.publish(name, data, except);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** This process's next message id. */
  #nextId(): string {
    return `${this.#epoch}-${++this.#count}`;
  }

  #deliver(
    topic: string,
    data: string | Uint8Array,
    id: string,
    except?: ReadonlySet<unknown>,
  ): void {
    const message = new PreparedMessage(
      this.#encode === undefined ? data : this.#encode(data, id, topic),
    );
    const queue = this.#queue;
    queue.push({ topic, id, message, except });
    if (queue.length > 1) return;
    try {
      while (queue.length > 0) {
        const { topic, id, message, except } = queue[0];
        // Kept as it goes out, so a subscription `since` made meanwhile gets it once.
        this.#window.record(topic, id, message.data);
        const subscribers = this.#topics.get(topic);
        if (subscribers !== undefined) this.#send(topic, subscribers, id, message, except);
        queue.shift();
      }
    } finally {
      queue.length = 0;
    }
  }

  #send(
    name: string,
    topic: Topic,
    id: string,
    message: PreparedMessage,
    except: ReadonlySet<unknown> | undefined,
  ): void {
    const pubsub = topic.pubsub;
    if (pubsub !== undefined && !topic.holdsBack(id)) {
      let skipped: Link | undefined;
      let skips = 0;
      for (const transport of except ?? []) {
        const link = topic.subscribers.get(transport as Subscriber);
        if (link === undefined) continue;
        skipped = link;
        skips++;
      }
      if (skips <= 1) {
        pubsub.publish(this.#prefix + name, message.data, skipped);
        for (const [subscriber, link] of topic.subscribers) {
          // One subscribed meanwhile (from a `connectionLost`) since this message: not sent it.
          if (link !== skipped && topic.passes(subscriber, id)) subscriber.sentNatively(message);
        }
        return;
      }
    }
    // Subscribers added meanwhile are visited too: a floor keeps one that was replayed
    // this message from getting it twice.
    for (const subscriber of topic.subscribers.keys()) {
      if (except?.has(subscriber) !== true && topic.passes(subscriber, id)) {
        subscriber.writePrepared(message);
      }
    }
  }
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string") throw new TypeError("A topic must be a string");
}

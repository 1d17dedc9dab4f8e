/**
 * A site's topic index: which connections subscribe to what, and delivery to them.
 * @module
 */

import type { Backplane } from "./backplane.ts";
import { PreparedMessage } from "./message.ts";

/** What a topic delivers to: a connection's session. */
export interface Subscriber {
  /**
   * Sends a published message, under the same send-buffer limit as any write.
   * @returns `false` when the connection is closing or closed.
   */
  writePrepared(message: PreparedMessage): boolean;
}

/** One delivery waiting for the one under way. */
interface Delivery {
  readonly topic: string;
  readonly message: PreparedMessage;
  readonly except: ReadonlySet<unknown> | undefined;
}

/**
 * The subscribers of each topic on one site, whatever adapter serves them, and the
 * backplane that links the site to other processes.
 *
 * Every subscriber gets the messages of a topic in the order they were published: a
 * message published while another is being delivered (from a `connectionLost` that the
 * delivery caused, say) waits until that delivery is done.
 */
export class Topics {
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  readonly #backplane: Backplane | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #queue: Delivery[] = [];

  /**
   * @param backplane Where to forward published messages, and where messages from
   *   other processes come from.
   * @param onError Reports an error thrown by the backplane.
   */
  constructor(backplane: Backplane | undefined, onError: (error: unknown) => void) {
    this.#backplane = backplane;
    this.#onError = onError;
    backplane?.onMessage((topic, data) => this.#deliver(topic, new PreparedMessage(data)));
  }

  /**
   * Adds a subscriber to a topic.
   * @throws {TypeError} When `topic` is not a string.
   */
  add(topic: string, subscriber: Subscriber): void {
    checkTopic(topic);
    let subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) this.#subscribers.set(topic, subscribers = new Set());
    subscribers.add(subscriber);
  }

  /**
   * Removes a subscriber from a topic.
   * @throws {TypeError} When `topic` is not a string.
   */
  delete(topic: string, subscriber: Subscriber): void {
    checkTopic(topic);
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return;
    subscribers.delete(subscriber);
    if (subscribers.size === 0) this.#subscribers.delete(topic);
  }

  /** How many connections of this process subscribe to a topic. */
  count(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /**
   * Sends a message to every subscriber of a topic in this process, but those in
   * `except`, then hands it to the backplane for the other processes.
   * @throws {TypeError} When `topic` is not a string.
   */
  publish(topic: string, data: string | Uint8Array, except?: ReadonlySet<unknown>): void {
    checkTopic(topic);
    this.#deliver(topic, new PreparedMessage(data), except);
    if (this.#backplane === undefined) return;
    try {
      this.#backplane.publish(topic, data);
    } catch (error) {
      this.#onError(error);
    }
  }

  #deliver(topic: string, message: PreparedMessage, except?: ReadonlySet<unknown>): void {
    if (!this.#subscribers.has(topic)) return;
    const queue = this.#queue;
    queue.push({ topic, message, except });
    if (queue.length > 1) return;
    try {
      while (queue.length > 0) {
        const { topic, message, except } = queue[0];
        for (const subscriber of this.#subscribers.get(topic) ?? []) {
          if (except?.has(subscriber) !== true) subscriber.writePrepared(message);
        }
        queue.shift();
      }
    } finally {
      queue.length = 0;
    }
  }
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string") throw new TypeError("A topic must be a string");
}

/**
 * The interface that carries published messages between processes.
 * @module
 */

/**
 * Carries messages published on a site to the same site in other processes, so that
 * `site.publish` reaches subscribers wherever they are connected.
 *
 * The site calls {@linkcode Backplane.onMessage} once, when it is made, then
 * {@linkcode Backplane.publish} with every message published in this process (after
 * delivering it to this process's subscribers, unless the backplane is
 * {@linkcode Backplane.ordered}), and {@linkcode Backplane.subscribe} and
 * {@linkcode Backplane.unsubscribe} as topics gain their first subscriber here and lose
 * their last. A backplane delivers each message to the other processes at most once,
 * never back to the process that published it (unless `ordered`), and keeps text as text
 * and bytes as bytes.
 *
 * @example A backplane over a BroadcastChannel, between workers
 * ```ts
 * import type { Backplane } from "./backplane.ts";
 * function channelBackplane(name: string): Backplane {
 *   const channel = new BroadcastChannel(name);
 *   return {
 *     publish: (topic, data) => channel.postMessage({ topic, data }),
 *     onMessage: (listener) => {
 *       channel.onmessage = (event) => listener(event.data.topic, event.data.data);
 *     },
 *   };
 * }
 * ```
 */
export interface Backplane {
  /**
   * Sends a message published in this process to the other processes. It must not
   * throw: a backplane that cannot send reports that its own way and drops the message.
   * @param except The connections of this process the message must not reach: an
   *   `ordered` backplane hands it back with the message; others ignore it.
   */
  publish(topic: string, data: string | Uint8Array, except?: ReadonlySet<unknown>): void;
  /**
   * Sets the function that delivers messages from other processes to this one; an
   * `ordered` backplane gives each message's id too (the same in every process), and,
   * for its own messages, the `except` they were published with. The site numbers the
   * messages of other backplanes itself, so their ids need not agree.
   */
  onMessage(
    listener: (
      topic: string,
      data: string | Uint8Array,
      id?: string,
      except?: ReadonlySet<unknown>,
    ) => void,
  ): void;
  /**
   * `true` when the backplane hands back this process's own messages too, once stored,
   * in the one order (per topic at least) every process delivers them in: the site then
   * delivers a message only when it comes back, not when it is published.
   * @default false
   */
  readonly ordered?: boolean;
  /**
   * Tells it that a topic got its first subscriber in this process, so that it may route
   * the topic's messages here (interest-based routing). A backplane without it gets
   * every message. The site calls it once per topic until
   * {@linkcode Backplane.unsubscribe}; it must not throw.
   * @param since The id that first subscriber resumes after, when it gave one: a
   *   backplane that keeps a log (`RedisStreamsBackplane`) may then start reading the
   *   topic there, delivering to it what came after `since` as it reads it.
   * @returns `false` when messages of the topic after `since` may not reach this process
   *   (it has been reading the topic only from a later id on); anything else (`true`,
   *   nothing) when they do.
   */
  subscribe?(topic: string, since?: string): unknown;
  /** Tells it that the last subscriber of a topic in this process left. */
  unsubscribe?(topic: string): void;
  /**
   * Its state, where it has one, for `site.stats()` (`RedisBackplane`: `"connecting"`,
   * `"up"`, `"down"` or `"closed"`).
   */
  readonly status?: string;
}

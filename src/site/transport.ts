/**
 * The transport a handler talks through: one per WebSocket connection.
 * @module
 */

/** Options of {@linkcode Transport.subscribe}. */
export interface SubscribeOptions {
  /** The id of the last message the client saw: send what came after it first. */
  since?: string;
}

/**
 * What a {@linkcode WebSocketHandler} uses to talk to its peer.
 *
 * Writing after the connection started closing is a no-op that returns `false`: a
 * handler racing a disconnect never crashes.
 *
 * @typeParam Data What the route's `onUpgrade` hook attached to the connection.
 */
export interface Transport<Data = unknown> {
  /**
   * Sends a message: text for a string, binary for bytes.
   *
   * Bytes are not copied when large: do not change them after writing.
   * @returns `false` (and sends nothing) when the connection is closing or closed.
   * @throws {TypeError} When `data` is neither a string nor bytes.
   */
  write(data: string | Uint8Array | ArrayBuffer): boolean;
  /**
   * Starts the closing handshake; a no-op when it has already started. From then on
   * `frameReceived` is not called again: messages still arriving, and those queued behind
   * an async `frameReceived`, are dropped.
   * @param code 1000 (the default), 1001-1003, 1007-1014 or 3000-4999.
   * @param reason At most 123 UTF-8 bytes.
   * @throws {RangeError} For a code that may not be sent or a reason that is too long.
   */
  close(code?: number, reason?: string): void;
  /**
   * Sends a ping. The Deno.serve adapter cannot (Deno has no ping API) and throws.
   * @returns `false` when the connection is closing or closed.
   * @throws {RangeError} When `data` exceeds 125 bytes.
   */
  ping(data?: Uint8Array): boolean;
  /**
   * Subscribes to a topic: messages published on it with `site.publish` (from this
   * process, or from others through the site's backplane) are written to this
   * connection. Subscriptions end by themselves as soon as the connection starts
   * closing; from then on, this is a no-op.
   *
   * Given `since` (an id a client saw, from the site's `encodePublished`), it first
   * writes the messages of the topic the site kept after that id, then live ones: none
   * twice, and none missed at the seam (a live message the connection already has is
   * held back, even one this process reads only after the client saw it elsewhere).
   * @returns `false` when messages after `since` may be missing: the site no longer
   *   keeps them (see the site's `replay` option), this process never saw them, or
   *   `since` is not an id it can place (another process's own, with the pub/sub
   *   backplane or none: then only live messages follow).
   * @throws {TypeError} When `topic` is not a string, or `since` not a string.
   */
  subscribe(topic: string, options?: SubscribeOptions): boolean;
  /**
   * Ends a subscription; a no-op when there is none.
   * @throws {TypeError} When `topic` is not a string.
   */
  unsubscribe(topic: string): void;
  /** Whether this connection subscribes to a topic. */
  isSubscribed(topic: string): boolean;
  /**
   * Publishes a message on a topic to every subscriber but this connection: the same as
   * `site.publish(topic, data, { except: transport })`.
   * @throws {TypeError} When `topic` is not a string or `data` neither a string nor bytes.
   */
  publish(topic: string, data: string | Uint8Array | ArrayBuffer): void;
  /** Bytes written but not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /**
   * Resolves once the send buffer has drained (or the connection closed): await it
   * between large writes to respect backpressure.
   */
  drained(): Promise<void>;
  /**
   * Whether messages can still be written: `false` from the moment a close starts, from
   * either side or a timer (idle or heartbeat timeout, shutdown, an overflow).
   */
  readonly isOpen: boolean;
  /** The negotiated subprotocol, or `""`. */
  readonly protocol: string;
  /**
   * The opening handshake's request (its body is not readable). On the Node adapter,
   * unless the route's `onUpgrade` hook already made it (then it is that same object),
   * it is made from the request head on first use, so an idle connection keeps no
   * `Request`.
   */
  readonly request: Request;
  /** What the route's `onUpgrade` hook returned for this connection. */
  readonly data: Data;
  /** The peer's IP address, where the runtime gives it. */
  readonly remoteAddress: string | undefined;
}

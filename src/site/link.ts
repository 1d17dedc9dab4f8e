/**
 * What an adapter provides to drive one connection: the runtime-specific half of a
 * transport.
 * @module
 */

/**
 * One WebSocket connection as the adapter's runtime exposes it.
 *
 * The raw-socket adapter implements it over the core `Connection`; the Deno.serve and
 * Bun.serve adapters over their runtime's native WebSocket.
 */
export interface Link {
  /** Sends a message: text for a string, binary for bytes. */
  send(data: string | Uint8Array): void;
  /**
   * Sends a whole data frame encoded already, the same bytes for many connections
   * (links that do their own framing only; the others are sent the message itself).
   */
  sendFrame?(frame: Uint8Array): void;
  /** Sends a ping; `false` when the runtime has no ping API. */
  ping(data: Uint8Array): boolean;
  /** Starts the closing handshake with a validated code and reason. */
  close(code: number, reason: string): void;
  /**
   * Fails the connection at once: sends a Close frame with `code` where it can, then
   * drops TCP without waiting for the peer.
   */
  terminate(code: number, reason: string): void;
  /**
   * Whether messages can still be sent: `false` from the moment a close starts, from
   * either side or a timer, for good. The one place a connection's open state is kept;
   * the session reads it rather than keep a copy. A link that starts a close the session
   * did not ask for (a timer's) calls `session.closing()` at once.
   */
  readonly isOpen: boolean;
  /** Bytes queued for sending. */
  readonly bufferedAmount: number;
  /**
   * The runtime's own pub/sub that reaches this connection (Bun's), where a topic may
   * use it instead of one send per subscriber.
   */
  readonly pubsub?: NativePubSub;
  /**
   * The peer's IP address, for a link that reads it from its socket only when asked
   * (the raw-socket adapter); others give it when the connection opens.
   */
  readonly remoteAddress?: string | undefined;
  /** Stops reading from the peer (raw sockets only). */
  pause?(): void;
  /** Reads from the peer again. */
  resume?(): void;
}

/**
 * A runtime's own pub/sub over the connections of one of its servers (Bun's
 * `ws.subscribe`, `ws.publish`, `server.publish`). It must send exactly what one
 * `send(data)` per subscriber would, in the same order with the connection's other
 * sends, and must drop nothing for a subscriber whose send buffer is within the limit.
 */
export interface NativePubSub {
  /** Subscribes a connection of this server to a topic. */
  subscribe(link: Link, topic: string): void;
  /** Ends a connection's subscription. */
  unsubscribe(link: Link, topic: string): void;
  /** Sends a message to every connection of this server subscribed to `topic` but `except`. */
  publish(topic: string, data: string | Uint8Array, except?: Link): void;
}

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
  /** Bytes queued for sending. */
  readonly bufferedAmount: number;
  /** Stops reading from the peer (raw sockets only). */
  pause?(): void;
  /** Reads from the peer again. */
  resume?(): void;
}

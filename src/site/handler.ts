/**
 * The handler base class, in the shape of Twisted's `twisted.web.websocket`.
 * @module
 */

import type { CloseInfo } from "../core/connection.ts";
import type { Transport } from "./transport.ts";

/**
 * Handles one WebSocket connection. Subclass it and override the callbacks.
 *
 * An instance is made when the connection opens, so the constructor may already write.
 * `frameReceived` gets every complete message in order; when it returns a promise, the
 * next message waits until it settles. `connectionLost` is called exactly once.
 *
 * @typeParam Data What the route's `onUpgrade` hook attached to the connection.
 *
 * @example An echo handler
 * ```ts
 * import { WebSocketHandler } from "./handler.ts";
 * class Echo extends WebSocketHandler {
 *   override frameReceived(frame: string | Uint8Array) {
 *     this.transport.write(frame);
 *   }
 * }
 * ```
 */
export class WebSocketHandler<Data = unknown> {
  /** The connection's transport. */
  readonly transport: Transport<Data>;

  /**
   * Made by the site when a connection opens; a subclass that takes the transport must
   * pass it on with `super(transport)`.
   * @param transport The connection's transport, given by the site.
   */
  constructor(transport: Transport<Data>) {
    this.transport = transport;
  }

  /**
   * Called with each complete message: a `string` for text, bytes for binary. Despite
   * the name (Twisted's), never a single frame: a fragmented message is reassembled,
   * and a compressed one inflated, before it is passed here, and it is at most the
   * route's `maxMessageBytes`. Throwing (or rejecting) closes this connection with 1011.
   */
  frameReceived(_message: string | Uint8Array): void | Promise<void> {}

  /** Called with each pong the peer sends. */
  pongReceived(_data: Uint8Array): void {}

  /** Called once when the connection has closed, with how it closed. */
  connectionLost(_reason: CloseInfo): void {}
}

/** A {@linkcode WebSocketHandler} subclass, as passed to `addHandler`. */
export type HandlerClass<Data = unknown> = new (
  transport: Transport<Data>,
) => WebSocketHandler<Data>;

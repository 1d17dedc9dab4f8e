/**
 * Typed errors: a protocol violation with its close code, a rejected handshake with its
 * HTTP status.
 * @module
 */

/**
 * A WebSocket protocol failure, carrying the close code and reason to send.
 *
 * @example
 * ```ts
 * import { WebSocketError } from "./errors.ts";
 * const error = new WebSocketError(1009, "Message too big");
 * error.closeCode; // 1009
 * ```
 */
export class WebSocketError extends Error {
  /** The RFC 6455 close code (1002, 1007, 1008, 1009, 1011, ...). */
  readonly closeCode: number;
  /** The close reason; cut to 123 UTF-8 bytes when sent in a Close frame. */
  readonly reason: string;

  /**
   * An error that fails a connection with `closeCode`.
   * @param closeCode The close code to send.
   * @param reason What went wrong.
   */
  constructor(closeCode: number, reason: string) {
    super(`${reason} (close code ${closeCode})`);
    this.name = "WebSocketError";
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/**
 * A rejected opening handshake, carrying the HTTP status to answer with.
 *
 * @example
 * ```ts
 * import { HandshakeError } from "./errors.ts";
 * const error = new HandshakeError(426, "Unsupported WebSocket version", {
 *   "Sec-WebSocket-Version": "13",
 * });
 * error.toResponse().status; // 426
 * ```
 */
export class HandshakeError extends Error {
  /** The HTTP status: 400, 403, 405, 426, 431, ... */
  readonly status: number;
  /** Extra response headers (for example `Allow` or `Sec-WebSocket-Version`). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * A refusal of an upgrade with `status`.
   * @param status The HTTP status.
   * @param message A short plain-text explanation, sent as the response body.
   * @param headers Extra headers for the response.
   */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HandshakeError";
    this.status = status;
    this.headers = headers;
  }

  /** The rejection as a plain-text `Response`. */
  toResponse(): Response {
    return new Response(this.message + "\n", {
      status: this.status,
      headers: { "Content-Type": "text/plain; charset=utf-8", ...this.headers },
    });
  }
}

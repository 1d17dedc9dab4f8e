/**
 * Protocol constants of RFC 6455: opcodes, close codes and the handshake GUID.
 * @module
 */

/**
 * Frame opcodes (RFC 6455 §5.2, §11.8).
 *
 * @example Telling a control frame from a data frame
 * ```ts
 * import { Opcode } from "./constants.ts";
 * const isControl = (opcode: number) => (opcode & 0x8) !== 0;
 * isControl(Opcode.Ping); // true
 * ```
 */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** One of the opcodes RFC 6455 defines. */
export type Opcode = typeof Opcode[keyof typeof Opcode];

/**
 * Close status codes (RFC 6455 §7.4.1, IANA registry).
 *
 * `NoStatusReceived` (1005), `AbnormalClosure` (1006) and `TlsHandshake` (1015) are
 * reported to the application, never sent on the wire.
 */
export const CloseCode = {
  NormalClosure: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatusReceived: 1005,
  AbnormalClosure: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  TlsHandshake: 1015,
} as const;

/** One of the registered close codes. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** The GUID appended to `Sec-WebSocket-Key` to compute `Sec-WebSocket-Accept` (RFC 6455 §1.3). */
export const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The largest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD_BYTES = 125;

/** The largest close reason in bytes: a 125-byte control payload less the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

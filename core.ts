/**
 * wsport's sans-I/O engine, for building your own I/O: a WebSocket connection as a state
 * machine that takes bytes and the time as inputs and gives events and bytes to send,
 * with no sockets, timers or runtime globals, and no `node:` module in its import graph.
 * The frame parser and builder, the opening handshake, UTF-8 validation and the
 * permessage-deflate negotiation are usable on their own.
 *
 * @example Accepting a handshake and reading a frame
 * ```ts
 * import { checkHandshake, FrameParser } from "wsport/core";
 *
 * const request = new Request("http://localhost/chat", {
 *   headers: {
 *     host: "localhost",
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "sec-websocket-version": "13",
 *     "sec-websocket-protocol": "chat",
 *   },
 * });
 * const acceptance = checkHandshake(request, { protocols: ["chat"] });
 * const parser = new FrameParser({ role: "server", maxFrameBytes: 1 << 20 });
 * ```
 * @module
 */

export { Connection } from "./src/core/connection.ts";
export type {
  CloseInfo,
  ConnectionEvent,
  ConnectionOptions,
  ConnectionState,
} from "./src/core/connection.ts";
export type { CloseStatus } from "./src/core/close.ts";
export type { MessageCodec } from "./src/core/message_codec.ts";
export {
  buildFrame,
  type BuildFrameOptions,
  type Frame,
  type FrameHeader,
  FrameParser,
  type FrameParserOptions,
} from "./src/core/frame.ts";
export {
  acceptHeaders,
  checkHandshake,
  computeAccept,
  type HandshakeAcceptance,
  type HandshakeOptions,
  type HandshakeRequest,
} from "./src/core/handshake.ts";
export { decodeUtf8, Utf8Validator } from "./src/core/utf8.ts";
export {
  negotiatePerMessageDeflate,
  type PerMessageDeflateAgreement,
} from "./src/core/permessage_deflate.ts";
export type { DeflateOptions } from "./src/core/deflate_options.ts";
export { HandshakeError, WebSocketError } from "./src/core/errors.ts";
export { CloseCode, GUID, Opcode } from "./src/core/constants.ts";
export { DEFAULT_LIMITS, type Limits, resolveLimits } from "./src/core/limits.ts";

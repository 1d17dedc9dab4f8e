/**
 * wsport: a WebSocket server library (RFC 6455) that runs unchanged on Deno, Bun and
 * Node.
 * @module
 */

export * from "./src/core/constants.ts";
export * from "./src/core/limits.ts";
export * from "./src/core/errors.ts";
export * from "./src/core/close.ts";
export * from "./src/core/handshake.ts";
export * from "./src/core/frame.ts";
export * from "./src/core/mask.ts";
export * from "./src/core/utf8.ts";
export * from "./src/core/output.ts";
export * from "./src/core/liveness.ts";
export * from "./src/core/connection.ts";
export {
  DEFAULT_DEFLATE_OPTIONS,
  type DeflateOptions,
  type DeflateSetting,
  resolveDeflateOptions,
} from "./src/core/deflate_options.ts";
export * from "./src/core/extensions.ts";
export * from "./src/core/permessage_deflate.ts";
export type { MessageCodec } from "./src/core/message_codec.ts";
export * from "./src/site/transport.ts";
export * from "./src/site/handler.ts";
export * from "./src/site/link.ts";
export * from "./src/site/session.ts";
export * from "./src/site/site.ts";
export type { Backplane } from "./src/site/backplane.ts";
export * from "./src/backplane/redis.ts";
export * from "./src/adapters/server.ts";
export * from "./src/adapters/serve.ts";
export { detectRuntime } from "./src/adapters/runtime.ts";
export { DeflateCodec } from "./src/adapters/deflate_codec.ts";
export { files, type FilesOptions } from "./src/files/files.ts";
export { contentType } from "./src/files/content_type.ts";

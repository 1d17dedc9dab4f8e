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

/**
 * wsport: a WebSocket server library (RFC 6455, RFC 7692) that runs unchanged on Deno,
 * Bun and Node.
 *
 * This is the application API: a {@linkcode WebSocketSite} with
 * {@linkcode WebSocketHandler} classes on its routes, served by {@linkcode serve} on the
 * runtime's own server (or `site.fetch` inside one you run), static {@linkcode files},
 * and a {@linkcode Backplane} to share topics between processes (the Redis ones are in
 * `wsport/redis`). The sans-I/O engine underneath, for building your own I/O, is the
 * `wsport/core` entry point; each adapter also has its own (`wsport/node`, `wsport/deno`,
 * `wsport/bun`, `wsport/workers`).
 *
 * @example An echo server
 * ```ts
 * import { serve, WebSocketHandler, WebSocketSite } from "wsport";
 *
 * class Echo extends WebSocketHandler {
 *   override frameReceived(message: string | Uint8Array) {
 *     this.transport.write(message);
 *   }
 * }
 * const site = new WebSocketSite();
 * site.addHandler("/echo", Echo);
 * await serve(site, { port: 8080 });
 * ```
 * @module
 */

export { WebSocketSite } from "./src/site/site.ts";
export type { HttpHandler, PublishOptions, RouteOptions, SiteOptions } from "./src/site/site.ts";
export { type HandlerClass, WebSocketHandler } from "./src/site/handler.ts";
export type { RouteStats, SiteStats } from "./src/site/stats.ts";
export { prometheusText } from "./src/site/prometheus.ts";
export type { LifecycleEvent } from "./src/site/lifecycle_event.ts";
export type { SubscribeOptions, Transport } from "./src/site/transport.ts";
export type { ReplayOptions } from "./src/site/replay.ts";
export type { CloseInfo } from "./src/core/connection.ts";
export type { HandshakeOptions } from "./src/core/handshake.ts";
export { CloseCode } from "./src/core/constants.ts";
export { DEFAULT_LIMITS, type Limits } from "./src/core/limits.ts";
export type { DeflateOptions } from "./src/core/deflate_options.ts";
export { serve } from "./src/adapters/serve.ts";
export type {
  AdapterName,
  NodeServer,
  ServeOptions,
  Server,
  TlsOptions,
} from "./src/adapters/server.ts";
export type { BunWebSocketHandlers } from "./src/adapters/native.ts";
export { files, type FilesOptions } from "./src/files/files.ts";
export type { Backplane } from "./src/site/backplane.ts";

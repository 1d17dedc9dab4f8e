/**
 * Cloudflare Workers and Durable Objects: the site API without anything of Node's, and
 * {@linkcode webSocketObject}, which runs a site's routes in a Durable Object with
 * WebSocket hibernation.
 *
 * In a plain Worker, `export default { fetch: site.fetch }` serves a site: `site.fetch`
 * sees the Workers runtime (its `WebSocketPair`) and upgrades there, after wsport's
 * handshake checks. The runtime frames the WebSocket itself: see `docs/runtimes.md`.
 *
 * @example An echo Worker
 * ```ts
 * import { WebSocketHandler, WebSocketSite } from "wsport/workers";
 *
 * class Echo extends WebSocketHandler {
 *   override frameReceived(message: string | Uint8Array) {
 *     this.transport.write(message);
 *   }
 * }
 * const site = new WebSocketSite();
 * site.addHandler("/echo", Echo);
 * export default { fetch: (request: Request) => site.fetch(request) };
 * ```
 * @module
 */

export { WebSocketSite } from "./src/site/site.ts";
export type { HttpHandler, PublishOptions, RouteOptions, SiteOptions } from "./src/site/site.ts";
export { type HandlerClass, WebSocketHandler } from "./src/site/handler.ts";
export type { Transport } from "./src/site/transport.ts";
export type { CloseInfo } from "./src/core/connection.ts";
export { CloseCode } from "./src/core/constants.ts";
export { DEFAULT_LIMITS, type Limits } from "./src/core/limits.ts";
export {
  type WebSocketObject,
  webSocketObject,
  type WebSocketObjectClass,
  type WebSocketObjectOptions,
  type WebSocketObjectState,
} from "./src/adapters/web_socket_object.ts";
export type { WorkersWebSocket } from "./src/adapters/workers.ts";

/**
 * The Node adapter alone: `serveNode` runs a site on `node:http` with wsport's own framing, as `serve(site, { adapter: "node" })`
 * does, without loading the other adapters' modules; `createUpgradeHandler` serves a site's
 * WebSockets on upgrades an app's own `node:http` server hands it (Express, Koa, Fastify).
 * @module
 */

export { serveNode } from "./src/adapters/node.ts";
export { createUpgradeHandler, type UpgradeHandler } from "./src/adapters/node_upgrade_handler.ts";

/**
 * The Node adapter alone: `serveNode` runs a site on `node:http` with wsport's own framing, as `serve(site, { adapter: "node" })`
 * does, without loading the other adapters' modules.
 * @module
 */

export { serveNode } from "./src/adapters/node.ts";

/**
 * The Bun adapter alone: `serveBun` runs a site as `serve(site, { adapter: "bun" })`
 * does, without loading the other adapters' modules.
 * @module
 */

export { serveBun } from "./src/adapters/bun.ts";

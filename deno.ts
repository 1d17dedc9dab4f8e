/**
 * The Deno adapter alone: `serveDeno` runs a site as `serve(site, { adapter: "deno" })`
 * does, without loading the other adapters' modules.
 * @module
 */

export { serveDeno } from "./src/adapters/deno.ts";

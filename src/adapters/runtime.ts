/**
 * Which runtime this is.
 * @module
 */

import type { AdapterName } from "./server.ts";

/** The runtime running this code: "deno", "bun", or "node" for anything else. */
export function detectRuntime(): AdapterName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

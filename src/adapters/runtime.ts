/**
 * Which runtime this is, and how `site.fetch` upgrades in it.
 * @module
 */

import { type RuntimeBinding, setRuntimeBinding } from "../site/site.ts";
import { bunRemoteAddress, type BunServer, bunWebSocketHandlers, upgradeBun } from "./bun.ts";
import { denoRemoteAddress, upgradeDeno } from "./deno.ts";
import type { AdapterName } from "./server.ts";

/** The runtime running this code: "deno", "bun", or "node" for anything else. */
export function detectRuntime(): AdapterName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

const bindings: Partial<Record<AdapterName, RuntimeBinding>> = {
  deno: {
    remoteAddress: (_request, context) => denoRemoteAddress(context),
    upgrade: (site, request, _context, decision, remoteAddress) =>
      upgradeDeno(site, request, decision, remoteAddress),
  },
  bun: {
    remoteAddress: bunRemoteAddress,
    upgrade: (site, request, context, decision, remoteAddress) =>
      upgradeBun(site, request, context as BunServer, decision, remoteAddress),
    websocket: bunWebSocketHandlers,
  },
};

/** Lets `site.fetch` upgrade with the native WebSocket of the runtime in use. */
export function bindRuntime(runtime: AdapterName = detectRuntime()): void {
  const binding = bindings[runtime];
  if (binding !== undefined) setRuntimeBinding(binding);
}

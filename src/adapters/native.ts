/**
 * The runtimes' own servers as `site.fetch` and `site.websocket` use them: how each
 * reads the peer's address and performs an upgrade. A constant table, picked by
 * {@linkcode detectRuntime} at each call: importing it changes nothing.
 * @module
 */

import type { AcceptedUpgrade } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { bunRemoteAddress, type BunServer, bunWebSocketHandlers, upgradeBun } from "./bun.ts";
import { denoRemoteAddress, upgradeDeno } from "./deno.ts";
import { detectRuntime } from "./runtime.ts";
import type { AdapterName } from "./server.ts";
import { isWorkers, upgradeWorkers, workersRemoteAddress } from "./workers.ts";

/**
 * Bun's `websocket` handler object for a site, as `Bun.serve` and `export default` take
 * it: wsport's callbacks, Bun's own limits opened wide (wsport enforces each route's) and
 * its compression presets from the site's `perMessageDeflate`.
 */
export interface BunWebSocketHandlers {
  /** A connection opened. */
  open(ws: unknown): void;
  /** A message arrived. */
  message(ws: unknown, message: string | Uint8Array): void;
  /** A pong arrived. */
  pong(ws: unknown, data: Uint8Array): void;
  /** The send buffer drained. */
  drain(ws: unknown): void;
  /** The connection closed. */
  close(ws: unknown, code: number, reason: string): void;
  /** One byte over the largest route's `maxMessageBytes`, so wsport decides on 1009. */
  readonly maxPayloadLength: number;
  /** 0: wsport runs the idle timeout. */
  readonly idleTimeout: number;
  /** `false`: wsport runs the heartbeat. */
  readonly sendPings: boolean;
  /** Twice the largest route's `maxSendBufferBytes`, so wsport's 1008 comes first. */
  readonly backpressureLimit: number;
  /** `false`: wsport closes a connection over its send buffer. */
  readonly closeOnBackpressureLimit: boolean;
  /** Bun's compressor presets, or `false` when no route compresses. */
  readonly perMessageDeflate: false | { compress: string; decompress: string };
}

/** How `site.fetch` uses one runtime's own server. */
export interface NativeServer {
  /**
   * The peer's address, read from what the runtime passed beside the request. Called
   * before anything is awaited: Deno's request info expires at the first await.
   */
  remoteAddress(request: Request, context: unknown): string | undefined;
  /** Upgrades an accepted request with the runtime's native WebSocket. */
  upgrade(
    site: WebSocketSite,
    request: Request,
    context: unknown,
    decision: AcceptedUpgrade,
    remoteAddress: string | undefined,
  ): Response | undefined;
  /** Bun's `websocket` handler object for a site, on Bun. */
  websocket?(site: WebSocketSite): BunWebSocketHandlers;
}

const NATIVE_SERVERS: Readonly<Partial<Record<AdapterName, NativeServer>>> = Object.freeze(
  {
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
  } satisfies Partial<Record<AdapterName, NativeServer>>,
);

/** A Cloudflare Worker's `fetch` (under `workerd`): not an adapter `serve()` can start. */
const WORKERS: NativeServer = Object.freeze(
  {
    remoteAddress: workersRemoteAddress,
    upgrade: (site, request, _env, decision, remoteAddress) =>
      upgradeWorkers(site, request, decision, remoteAddress),
  } satisfies NativeServer,
);

/** The runtime's own server, when `site.fetch` can upgrade on it (Deno, Bun, Workers). */
export function nativeServer(): NativeServer | undefined {
  return isWorkers() ? WORKERS : NATIVE_SERVERS[detectRuntime()];
}

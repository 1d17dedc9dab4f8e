/**
 * A connection's lifecycle events, for structured logging: one when it opens, one when it
 * closes.
 * @module
 */

import type { Transport } from "./transport.ts";

/**
 * A connection opened or closed, as the site's `onLifecycle` option is told: `"open"`
 * once the handshake is done (before the handler is made), `"close"` once, when the
 * connection has closed (just before `connectionLost`).
 *
 * @example One JSON line per event
 * ```ts
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite(undefined, {
 *   onLifecycle(event) {
 *     const { transport: _, ...fields } = event;
 *     console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
 *   },
 * });
 * ```
 */
export type LifecycleEvent =
  & {
    /** `"open"` or `"close"`. */
    readonly type: "open" | "close";
    /** The route's path, as given to `addHandler`. */
    readonly route: string;
    /** The peer's IP address, where the runtime gives it. */
    readonly remoteAddress: string | undefined;
    /** The negotiated subprotocol, or `""`. */
    readonly protocol: string;
    /** The connection (its `data` is what `onUpgrade` returned, a user id say). */
    readonly transport: Transport<unknown>;
  }
  & ({ readonly type: "open" } | {
    readonly type: "close";
    /** The close code `connectionLost` gets (1006: lost without a Close frame). */
    readonly code: number;
    /** The close reason, or `""`. */
    readonly reason: string;
    /** Whether the closing handshake completed. */
    readonly wasClean: boolean;
    /** Milliseconds from the open event to the close. */
    readonly durationMs: number;
  });

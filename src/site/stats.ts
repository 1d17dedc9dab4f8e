/**
 * A site's counters: per route, what its connections did, counted where every adapter's
 * connections pass (the site's request switch and the session), so that Node, Deno.serve
 * and Bun.serve count alike.
 * @module
 */

/**
 * One route's numbers since the site was made, as {@linkcode SiteStats} gives them.
 *
 * Messages are whole messages (a fragmented one counts once, a compressed one once,
 * inflated); bytes are their payload bytes, text counted in UTF-8, without frame headers,
 * masks or compression. A message counts in when it reaches the connection's handler or
 * its queue (not one still arriving after a close started), and out when the connection
 * is given it to send (`write`, or a published message), whether or not the peer read it.
 */
export interface RouteStats {
  /** Connections open now: opened and not yet reported lost. */
  readonly open: number;
  /** Handshakes accepted: connections that opened (the 101 was sent) on this route. */
  readonly accepted: number;
  /**
   * Upgrade requests for this route that were refused, counted by the HTTP status of the
   * refusal: 400, 403 or 426 from the handshake checks, what `onUpgrade` returned (a 401,
   * say), or 500 when a hook failed. Statuses that never occurred are absent.
   */
  readonly refused: Readonly<Record<number, number>>;
  /** Messages received. */
  readonly messagesIn: number;
  /** Payload bytes of the messages received (text in UTF-8). */
  readonly bytesIn: number;
  /** Messages sent, one per connection a published message went to. */
  readonly messagesOut: number;
  /** Payload bytes of the messages sent (text in UTF-8). */
  readonly bytesOut: number;
  /**
   * Connections closed, counted by the close code they reported to `connectionLost`:
   * 1000 for a normal close, 1006 for a connection lost without a Close frame, the code
   * wsport failed it with (1008, 1009, ...), or the peer's own code.
   */
  readonly closeCodes: Readonly<Record<number, number>>;
  /** Connections failed with 1008 because their send buffer passed `maxSendBufferBytes`. */
  readonly sendBufferOverflows: number;
  /**
   * Connections failed with 1008 because their receive queue passed
   * `maxReceiveQueueBytes` on an adapter that cannot pause reading (Deno.serve, Bun.serve).
   */
  readonly receiveQueueOverflows: number;
}

/**
 * A site's numbers, from `site.stats()`: a snapshot, plain data (it serializes with
 * `JSON.stringify`), made anew on each call.
 *
 * @example Logging open connections per route
 * ```ts
 * import { WebSocketHandler, WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * site.addHandler("/chat", WebSocketHandler);
 * for (const [path, route] of Object.entries(site.stats().routes)) {
 *   console.log(path, route.open, route.closeCodes[1006] ?? 0);
 * }
 * ```
 */
export interface SiteStats {
  /** Each route's numbers, by its path, in the order the routes were added. */
  readonly routes: Readonly<Record<string, RouteStats>>;
  /**
   * The backplane, when the site has one: its `status` where it tells one
   * (`RedisBackplane`'s `"connecting"`, `"up"`, `"down"` or `"closed"`), else `undefined`.
   */
  readonly backplane: { readonly status: string | undefined } | undefined;
}

/**
 * One route's live counters: plain numbers, bumped in place. A connection finds its
 * route's counters once, when it opens; the message path only adds to numbers.
 */
export class RouteCounters {
  open = 0;
  accepted = 0;
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  sendBufferOverflows = 0;
  receiveQueueOverflows = 0;
  readonly #refused = new Map<number, number>();
  readonly #closeCodes = new Map<number, number>();

  /** Counts an upgrade refused with `status`. */
  refused(status: number): void {
    this.#refused.set(status, (this.#refused.get(status) ?? 0) + 1);
  }

  /** Counts a connection that closed with `code`. */
  closed(code: number): void {
    this.open--;
    this.#closeCodes.set(code, (this.#closeCodes.get(code) ?? 0) + 1);
  }

  /** The counters as plain data. */
  snapshot(): RouteStats {
    return {
      open: this.open,
      accepted: this.accepted,
      refused: byKey(this.#refused),
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      closeCodes: byKey(this.#closeCodes),
      sendBufferOverflows: this.sendBufferOverflows,
      receiveQueueOverflows: this.receiveQueueOverflows,
    };
  }
}

/** A map of counts as a plain object, keys in ascending order. */
function byKey(counts: ReadonlyMap<number, number>): Record<number, number> {
  const result: Record<number, number> = {};
  for (const key of [...counts.keys()].sort((a, b) => a - b)) result[key] = counts.get(key)!;
  return result;
}

/**
 * What the adapters reach of a site beyond its public API: the request switch, the
 * session factory and the error hook. Not exported from `mod.ts`, so it is no part of the
 * public `WebSocketSite` type; `siteInternals(site)` is how the adapters (and tests)
 * reach it.
 * @module
 */

import type { HandshakeAcceptance, HandshakeRequest } from "../core/handshake.ts";
import type { Limits } from "../core/limits.ts";
import type { DeflateOptions } from "../core/deflate_options.ts";
import type { HandlerClass } from "./handler.ts";
import type { Link } from "./link.ts";
import type { RequestSource, Session, SessionRoute } from "./session.ts";
import type { RouteOptions } from "./site.ts";
import type { RouteCounters } from "./stats.ts";
import type { Transport } from "./transport.ts";

/** A route: its handler and resolved options. */
export interface Route<Data = unknown> {
  readonly path: string;
  readonly handler: HandlerClass<Data>;
  readonly options: RouteOptions<Data>;
  readonly limits: Readonly<Limits>;
  /** The route's compression options, the site's under its own; `undefined` when off. */
  readonly perMessageDeflate: Readonly<DeflateOptions> | undefined;
  /** The route's counters, for `site.stats()`. */
  readonly counters: RouteCounters;
  /** What the route's sessions share. */
  readonly session: SessionRoute<Data>;
}

/**
 * A request as an adapter that parses HTTP itself sees it: what the site's request
 * switch reads (method, path, headers), and the `Request`, made only when a hook or the
 * HTTP handler needs one. The Node adapter passes these, so a handshake costs no
 * `Request`, `Headers` or `URL`.
 */
export interface RequestHead extends HandshakeRequest {
  /** The URL's path, as `new URL(url).pathname` gives it. */
  readonly pathname: string;
  /** The request as a `Request`: the same object on every call. */
  toRequest(): Request;
}

/** What the site decided for a request. */
export type UpgradeDecision =
  /** Not a WebSocket request for any route: serve it as plain HTTP. */
  | { kind: "http" }
  /** A WebSocket request refused with this response. */
  | { kind: "reject"; response: Response }
  /** A valid upgrade: the adapter performs it and opens a session. */
  | { kind: "accept"; route: Route; acceptance: HandshakeAcceptance; data: unknown };

/** A WebSocket request the site refused. */
export type RejectedUpgrade = Extract<UpgradeDecision, { kind: "reject" }>;

/** A request the site accepted as a WebSocket upgrade. */
export type AcceptedUpgrade = Extract<UpgradeDecision, { kind: "accept" }>;

/** What an adapter knows about a connection it has upgraded. */
export interface OpenedConnection {
  link: Link;
  /** The upgrade request, or a function that makes an equal one on first use. */
  request: RequestSource;
  /** What the site granted: the route, subprotocol and data. */
  decision: AcceptedUpgrade;
  remoteAddress: string | undefined;
  /**
   * The connection was open before, in a process that kept nothing of it (a Durable
   * Object woken from hibernation): its handler is remade without its constructor.
   * @default false
   */
  resumed?: boolean;
}

/**
 * How an adapter takes part in {@linkcode SiteInternals.handle}: it performs the upgrades
 * the site accepts, and may adjust the responses it sends.
 *
 * @typeParam Upgraded What performing an upgrade gives (a `Response` to send, or
 *   `undefined` when the runtime answers the upgrade itself).
 */
export interface Upgrader<Upgraded> {
  /** Called once the site has decided, before the answer is made. */
  decided?(): void;
  /** Performs an accepted upgrade. */
  upgrade(decision: AcceptedUpgrade): Upgraded | Promise<Upgraded>;
  /** The refusal of an upgrade as this runtime must send it. @default as it is */
  refused?(response: Response): Response;
  /** A plain HTTP answer as this runtime must send it. @default as it is */
  served?(response: Response): Response;
}

/** A site's adapter-facing side. */
export interface SiteInternals {
  /** The routes, by path. */
  readonly routes: ReadonlyMap<string, Route>;
  /**
   * The request switch, the one every adapter uses: plain HTTP goes to the site's HTTP
   * handler, a refused handshake gets its refusal, an accepted one goes to
   * `upgrader.upgrade`. It does not throw for an error of the application's (see
   * {@linkcode SiteInternals.decide}); a `RequestHead` whose headers no `Request` can
   * carry is answered 400.
   */
  handle<Upgraded>(
    request: Request | RequestHead,
    upgrader: Upgrader<Upgraded>,
  ): Promise<Response | Upgraded>;
  /**
   * Decides what to do with a request: plain HTTP, a refused handshake, or an upgrade.
   * It does not throw: an error in the checks (an `allowedOrigins` function that throws)
   * or in `onUpgrade`, or an `onUpgrade` answer that cannot be sent, goes to `onError`
   * and refuses the upgrade with a plain 500.
   */
  decide(request: Request | RequestHead): Promise<UpgradeDecision>;
  /**
   * {@linkcode SiteInternals.decide} without a promise, where nothing must be awaited:
   * `undefined` for a WebSocket request on a route with an `onUpgrade` hook, and for a
   * request that is not one (plain HTTP), which the caller passes to `handle()` instead.
   */
  decideAtOnce(request: RequestHead): AcceptedUpgrade | RejectedUpgrade | undefined;
  /**
   * Serves a plain HTTP request with the site's HTTP handler. It does not throw: an
   * error the handler throws, or an answer that is not a `Response` that can be sent,
   * goes to `onError` and is answered with a plain 500.
   */
  serveHttp(request: Request): Promise<Response>;
  /**
   * Reports an error that failed a request to `onError`, and gives the answer to send
   * instead: a plain-text 500, with nothing of the error in it. Adapters call it from
   * the runtime's error hook, so that no runtime's own error page reaches a client.
   */
  requestFailed(error: unknown): Response;
  /**
   * Passes an error to the site's `onError` hook, with the connection it happened on if
   * any. It never throws (an error thrown by the hook itself is logged).
   */
  reportError(error: unknown, transport?: Transport<unknown>): void;
  /**
   * Opens a session for an upgraded connection and makes its handler. Adapters call it
   * once the runtime reports the connection open.
   */
  open(connection: OpenedConnection): Session;
}

/** Each site's internals, keyed by the site: set once, by its constructor. */
const registry = new WeakMap<object, SiteInternals>();

/** Records a site's internals; called once, by the `WebSocketSite` constructor. */
export function registerSiteInternals(site: object, internals: SiteInternals): void {
  registry.set(site, internals);
}

/**
 * The adapter-facing side of a site.
 * @throws {TypeError} When `site` is not a `WebSocketSite`.
 */
export function siteInternals(site: object): SiteInternals {
  const internals = registry.get(site);
  if (internals === undefined) throw new TypeError("Not a WebSocketSite");
  return internals;
}

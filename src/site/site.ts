/**
 * `WebSocketSite`: routes WebSocket upgrades to handlers and everything else to an
 * ordinary `(Request) => Response` handler.
 * @module
 */

import { HandshakeError } from "../core/errors.ts";
import { describeValue } from "../core/options.ts";
import {
  checkHandshake,
  type HandshakeAcceptance,
  type HandshakeOptions,
  type HandshakeRequest,
  headerList,
} from "../core/handshake.ts";
import { type Limits, resolveLimits } from "../core/limits.ts";
import {
  type DeflateOptions,
  type DeflateSetting,
  resolveDeflateOptions,
} from "../core/deflate_options.ts";
import { type BunWebSocketHandlers, nativeServer } from "../adapters/native.ts";
import type { Backplane } from "./backplane.ts";
import type { HandlerClass } from "./handler.ts";
import type { LifecycleEvent } from "./lifecycle_event.ts";
import {
  type AcceptedUpgrade,
  type OpenedConnection,
  registerSiteInternals,
  type RejectedUpgrade,
  type RequestHead,
  type Route,
  type SiteInternals,
  type UpgradeDecision,
  type Upgrader,
} from "./internals.ts";
import { toMessage } from "./message.ts";
import { Session, type SessionRoute } from "./session.ts";
import { checkRouteArguments, checkSiteArguments } from "./site_options.ts";
import { RouteCounters, type RouteStats, type SiteStats } from "./stats.ts";
import type { ReplayOptions } from "./replay.ts";
import { Topics } from "./topics.ts";
import type { Transport } from "./transport.ts";

/** An ordinary HTTP handler: what the site calls for everything that is not an upgrade. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** Options of one route, given to {@linkcode WebSocketSite.addHandler}. */
export interface RouteOptions<Data = unknown> extends HandshakeOptions {
  /**
   * Largest message accepted on this route; larger ones close with 1009.
   * @default 16 MiB, or the site's `limits.maxMessageBytes`
   */
  maxMessageBytes?: number;
  /** Other limits for this route, over the site's. */
  limits?: Partial<Limits>;
  /**
   * permessage-deflate (RFC 7692) on this route: `true` for the defaults (or the site's
   * options), `false` to turn the site's off, or options over the site's. A decompressed
   * message counts against `maxMessageBytes`.
   *
   * @default the site's `perMessageDeflate` (off unless set)
   *
   * @example Compressing a chat route, with small windows to save memory
   * ```ts
   * import { WebSocketHandler, WebSocketSite } from "wsport";
   * class Chat extends WebSocketHandler {}
   * const site = new WebSocketSite();
   * site.addHandler("/chat", Chat, {
   *   perMessageDeflate: { serverMaxWindowBits: 12, clientMaxWindowBits: 12, memLevel: 5 },
   * });
   * ```
   */
  perMessageDeflate?: boolean | Partial<DeflateOptions>;
  /**
   * Runs before the upgrade, after the handshake checks: authenticate here. Return a
   * `Response` to refuse the upgrade (for example a 401), or the per-connection data
   * that the transport will carry as `transport.data`.
   *
   * @example Requiring a token
   * ```ts
   * import { WebSocketHandler, WebSocketSite } from "wsport";
   * class Chat extends WebSocketHandler {}
   * const site = new WebSocketSite();
   * site.addHandler("/chat", Chat, {
   *   onUpgrade(request: Request) {
   *     const user = new URL(request.url).searchParams.get("token");
   *     return user ? { user } : new Response("Unauthorized", { status: 401 });
   *   },
   * });
   * ```
   */
  onUpgrade?: (request: Request) => Data | Response | Promise<Data | Response>;
}

/** Options of a {@linkcode WebSocketSite}. */
export interface SiteOptions {
  /** Limits for every route, over the defaults. */
  limits?: Partial<Limits>;
  /**
   * permessage-deflate (RFC 7692) for every route: `true` for the defaults, or options
   * over them (see `DeflateOptions`). A route's own `perMessageDeflate` overrides it.
   * Bun.serve maps it to its presets; Deno.serve cannot compress (use the Node adapter).
   * @default false
   */
  perMessageDeflate?: boolean | Partial<DeflateOptions>;
  /**
   * Called with every error a handler throws (after which its connection closes with
   * 1011); with every error an `onUpgrade` hook or an `allowedOrigins` function throws,
   * or the HTTP handler throws, and every answer of theirs that is not a `Response` that
   * can be sent (each answered with a plain-text 500, nothing of the error in it); and
   * with errors the adapters meet on one connection (which is dropped). An error it
   * throws itself is logged with `console.error`, and changes nothing else.
   * @default logs with `console.error`
   */
  onError?: (error: unknown, transport?: Transport<unknown>) => void;
  /**
   * Carries published messages to the same site in other processes (for example
   * `RedisBackplane`), so that `publish` reaches their subscribers too.
   * @default none: messages reach this process's subscribers only
   */
  backplane?: Backplane;
  /**
   * Told when a connection opens and when it closes, for structured logging: the route,
   * remote address, subprotocol and transport, and on close the code, reason and
   * duration (see `LifecycleEvent`). An error it throws goes to `onError` with the
   * connection, which carries on.
   * @default none
   *
   * @example One JSON line per connection closed
   * ```ts
   * import { WebSocketSite } from "wsport";
   * const site = new WebSocketSite(undefined, {
   *   onLifecycle(event) {
   *     if (event.type !== "close") return;
   *     const { route, remoteAddress, code, reason, durationMs } = event;
   *     console.log(JSON.stringify({ route, remoteAddress, code, reason, durationMs }));
   *   },
   * });
   * ```
   */
  onLifecycle?: (event: LifecycleEvent) => void;
  /**
   * How many published messages the site keeps per topic, and in bytes over all topics,
   * so that `transport.subscribe(topic, { since })` can send a reconnecting client what
   * it missed. `0` keeps none.
   * @default { maxMessages: 256, maxBytes: 8_388_608 }
   */
  replay?: ReplayOptions;
  /**
   * Makes what subscribers receive from each published message and its id, the id a
   * client gives back as `since` when it reconnects (for example
   * `(data, id) => JSON.stringify({ id, text: data })`). Ids are `ms-seq` strings: a
   * Redis stream's own with `RedisStreamsBackplane` (the same in every process), else
   * this process's own.
   * @default none: subscribers receive the data as published
   */
  encodePublished?: (data: string | Uint8Array, id: string, topic: string) => string | Uint8Array;
}

/** Options of {@linkcode WebSocketSite.publish}. */
export interface PublishOptions {
  /** Connections of this process not to send the message to, such as its sender. */
  except?: Transport | readonly Transport[];
}

const plainText = (status: number, text: string) =>
  new Response(text + "\n", {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
const notFound: HttpHandler = () => plainText(404, "Not Found");
const internalServerError = () => plainText(500, "Internal Server Error");
const logError = (error: unknown) => console.error("wsport:", error);

/**
 * Why a value returned as a response cannot be sent, or `undefined` when it can: it must
 * be this runtime's `Response` (a look-alike from another fetch implementation is not
 * sent), and its body must not have been read already (a `Response` returned twice).
 */
function unsendable(response: unknown, what: string): TypeError | undefined {
  if (!(response instanceof Response)) {
    return new TypeError(
      `${what} must be a Response (the runtime's global class), got ${describeValue(response)}`,
    );
  }
  if (response.bodyUsed || response.body?.locked) {
    return new TypeError(
      `${what} is a Response whose body was already read: make a new Response for each ` +
        "request",
    );
  }
  return undefined;
}

/**
 * Whether a value returned by `onUpgrade` looks like a `Response` without being one (from
 * another fetch implementation): refused rather than taken as the connection's data.
 */
function looksLikeResponse(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.status === "number" && typeof candidate.headers === "object" &&
    typeof candidate.arrayBuffer === "function";
}

/**
 * Whether `request` is an adapter's {@linkcode RequestHead}. Not `instanceof Request`:
 * on Node the first use of the `Request` global loads undici, megabytes that a server
 * that only upgrades never needs.
 */
function isRequestHead(request: Request | RequestHead): request is RequestHead {
  return typeof (request as Partial<RequestHead>).toRequest === "function";
}

/** Whether a request asks for a WebSocket (an `Upgrade: websocket` header). */
export function isWebSocketRequest(request: HandshakeRequest): boolean {
  return headerList(request.headers.get("upgrade")).some((item) =>
    item.toLowerCase() === "websocket"
  );
}

/**
 * A site: WebSocket handlers on paths, and an HTTP handler for everything else.
 *
 * @example The classic echo site
 * ```ts
 * import { serve, WebSocketHandler, WebSocketSite, files } from "wsport";
 * class Echo extends WebSocketHandler {
 *   override frameReceived(frame: string | Uint8Array) {
 *     this.transport.write(frame);
 *   }
 * }
 * const site = new WebSocketSite(files("."));
 * site.addHandler("/echo", Echo);
 * serve(site, { port: 8080 });
 * ```
 */
export class WebSocketSite {
  /** The limits every route starts from. */
  readonly limits: Readonly<Limits>;
  readonly #limitOverrides: Partial<Limits>;
  /** The site-wide compression options; `undefined` when off (routes may still turn it on). */
  readonly perMessageDeflate: Readonly<DeflateOptions> | undefined;
  readonly #perMessageDeflate: DeflateSetting | undefined;
  readonly #http: HttpHandler;
  readonly #onError: (error: unknown, transport?: Transport<unknown>) => void;
  readonly #routes = new Map<string, Route>();
  readonly #sessions = new Set<Session>();
  /** Forgets a closed session: one function for every session of the site. */
  readonly #forget = (session: Session) => {
    this.#sessions.delete(session);
  };
  readonly #topics: Topics;
  readonly #backplane: Backplane | undefined;
  readonly #onLifecycle: ((event: LifecycleEvent) => void) | undefined;

  /**
   * Every option is checked here, for callers in plain JavaScript too: a mistake throws
   * at once, naming the option, rather than failing at the first connection.
   *
   * @param http Serves plain HTTP requests and upgrades to paths with no handler. It must
   *   return (or resolve to) a new `Response`; anything else, or a throw, is reported to
   *   `onError` and answered with a plain 500.
   * @default a 404 for everything
   * @param options Site-wide limits and the error hook.
   * @throws {TypeError} When `http` is not a function, `options` not an object, an
   *   option's name is unknown (the message lists the known ones) or its value of the
   *   wrong type: `limits` an object, `perMessageDeflate` a boolean or an object of
   *   `DeflateOptions`, `onError` and `onLifecycle` functions, `backplane` an object with
   *   `publish` and `onMessage` methods.
   * @throws {RangeError} When a limit or a `perMessageDeflate` number is out of its range.
   */
  constructor(http: HttpHandler = notFound, options: SiteOptions = {}) {
    checkSiteArguments(http, options);
    this.#http = http;
    this.#limitOverrides = { ...options.limits };
    this.limits = resolveLimits(options.limits);
    this.#perMessageDeflate = options.perMessageDeflate;
    this.perMessageDeflate = resolveDeflateOptions(options.perMessageDeflate);
    const onError = options.onError ?? logError;
    // A hook that throws must not take the connection's dispatch (or the process) with it.
    this.#onError = (error, transport) => {
      try {
        onError(error, transport);
      } catch (failure) {
        logError(failure);
        logError(error);
      }
    };
    this.#topics = new Topics(options.backplane, this.#onError, {
      replay: options.replay,
      encode: options.encodePublished,
    });
    this.#backplane = options.backplane;
    const onLifecycle = options.onLifecycle;
    this.#onLifecycle = onLifecycle && ((event) => {
      try {
        onLifecycle(event);
      } catch (error) {
        this.#onError(error, event.transport);
      }
    });
    registerSiteInternals(
      this,
      {
        routes: this.#routes,
        handle: (request, upgrader) => this.#handle(request, upgrader),
        decide: (request) => this.#decide(request),
        decideAtOnce: (request) => this.#decideAtOnce(request),
        serveHttp: (request) => this.#serveHttp(request),
        requestFailed: (error) => this.#requestFailed(error),
        reportError: this.#onError,
        open: (connection) => this.#open(connection),
      } satisfies SiteInternals,
    );
  }

  /**
   * Serves WebSocket connections on `path` with a new `Handler` for each. Every argument
   * is checked here, for callers in plain JavaScript too: a mistake throws at once,
   * naming the option, rather than failing at the first connection.
   *
   * @param path The exact URL path, starting with "/", as `new URL(url).pathname` gives
   *   it.
   * @param handler A class extending `WebSocketHandler` (or any class whose prototype has
   *   the methods `frameReceived`, `pongReceived` and `connectionLost`).
   * @param options The route's options. The handler's `Data` (its `transport.data`) is
   *   what `onUpgrade` returns: a hook returning anything else is a type error, and a
   *   handler whose `Data` cannot be `undefined` needs the hook.
   * @returns The site, so calls chain.
   * @throws {TypeError} For a path that is not a string or can never match a request (not
   *   starting with "/"; holding `?`, `#` or whitespace; ending with "/" other than "/"
   *   itself; dot segments, a backslash or characters the URL parser percent-encodes), a
   *   path that has a handler already, a handler that is not such a class (an arrow
   *   function), options that are not an object, an unknown option (the message lists the
   *   known ones), or an option of the wrong type or form: `protocols` an array of tokens,
   *   `allowedOrigins` an array of origins (`"https://example.com"`) or a function,
   *   `perMessageDeflate` a boolean or an object of `DeflateOptions`, `maxMessageBytes` a
   *   number, `limits` an object, `onUpgrade` a function.
   * @throws {RangeError} When a limit or a `perMessageDeflate` number is out of its range.
   *
   * @example A chat route with a subprotocol
   * ```ts
   * import { WebSocketHandler, WebSocketSite } from "wsport";
   * class Chat extends WebSocketHandler {}
   * const site = new WebSocketSite();
   * site.addHandler("/chat", Chat, { protocols: ["chat.v2", "chat.v1"] });
   * // site.addHandler("/chat", Chat, { protocols: "chat" }) throws:
   * // TypeError: addHandler(): option "protocols" must be an array of strings (tokens), got the string "chat"
   * ```
   *
   * @example Per-connection data, typed from the hook to the handler
   * ```ts
   * import { WebSocketHandler, WebSocketSite } from "wsport";
   * class Chat extends WebSocketHandler<{ user: string }> {
   *   override frameReceived(message: string | Uint8Array) {
   *     this.transport.write(`${this.transport.data.user}: ${message}`);
   *   }
   * }
   * const site = new WebSocketSite();
   * site.addHandler("/chat", Chat, {
   *   onUpgrade(request) {
   *     const user = new URL(request.url).searchParams.get("user");
   *     return user ? { user } : new Response("Unauthorized", { status: 401 });
   *   },
   * });
   * ```
   */
  addHandler<Data = unknown>(
    path: string,
    handler: HandlerClass<Data>,
    ...[options = {}]: undefined extends Data ? [options?: RouteOptions<Data>]
      : [options: RouteOptions<Data> & Required<Pick<RouteOptions<Data>, "onUpgrade">>]
  ): this {
    checkRouteArguments(path, handler, options);
    if (this.#routes.has(path)) {
      throw new TypeError(`addHandler(): the path "${path}" already has a handler`);
    }
    const limits = resolveLimits({
      ...this.#limitOverrides,
      ...options.limits,
      ...(options.maxMessageBytes === undefined
        ? {}
        : { maxMessageBytes: options.maxMessageBytes }),
    });
    const perMessageDeflate = resolveDeflateOptions(
      this.#perMessageDeflate,
      options.perMessageDeflate,
    );
    const counters = new RouteCounters();
    const session: SessionRoute<unknown> = {
      handler: handler as HandlerClass<unknown>,
      limits,
      topics: this.#topics,
      onError: this.#onError,
      onClosed: this.#forget,
      path,
      counters,
      onLifecycle: this.#onLifecycle,
    };
    this.#routes.set(
      path,
      { path, handler, options, limits, perMessageDeflate, counters, session } as Route,
    );
    return this;
  }

  /** The open connections, on every adapter this site is served by. */
  get connections(): ReadonlySet<Transport> {
    return this.#sessions;
  }

  /**
   * Sends a message to every connection subscribed to `topic`, on every adapter this
   * site is served by, and through the backplane to the other processes. Each
   * subscriber gets the messages of a topic in the order they were published; a
   * subscriber whose send buffer is over `maxSendBufferBytes` is closed with 1008.
   *
   * @param data Text for a string, binary for bytes; bytes are not copied, so do not
   *   change them after.
   * @throws {TypeError} When `topic` is not a string or `data` neither a string nor bytes.
   *
   * @example A room, skipping the sender
   * ```ts
   * import { type Transport, WebSocketHandler, WebSocketSite } from "wsport";
   * const site = new WebSocketSite();
   * class Room extends WebSocketHandler {
   *   constructor(transport: Transport) {
   *     super(transport);
   *     transport.subscribe("lobby");
   *   }
   *   override frameReceived(frame: string | Uint8Array) {
   *     site.publish("lobby", frame, { except: this.transport });
   *   }
   * }
   * site.addHandler("/lobby", Room);
   * ```
   */
  publish(
    topic: string,
    data: string | Uint8Array | ArrayBuffer,
    options: PublishOptions = {},
  ): void {
    const message = toMessage(data, "publish()");
    const except = options.except;
    this.#topics.publish(
      topic,
      message,
      except === undefined ? undefined : new Set(Array.isArray(except) ? except : [except]),
    );
  }

  /** How many connections of this process subscribe to `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.count(topic);
  }

  /**
   * The site's numbers in this process: per route, open connections, handshakes
   * accepted and refused (by status), messages and bytes in and out, close codes and
   * overflows; and the backplane's status. The counters are always on and cost a few
   * additions per message; this makes a new snapshot on each call.
   *
   * @example The numbers as JSON, on the site's own port
   * ```ts
   * import { WebSocketSite } from "wsport";
   * const site: WebSocketSite = new WebSocketSite((request) =>
   *   new URL(request.url).pathname === "/stats"
   *     ? Response.json(site.stats())
   *     : new Response("Not Found", { status: 404 })
   * );
   * ```
   */
  stats(): SiteStats {
    const routes: Record<string, RouteStats> = {};
    for (const [path, route] of this.#routes) routes[path] = route.counters.snapshot();
    const backplane = this.#backplane;
    const status = backplane?.status;
    return {
      routes,
      backplane: backplane === undefined
        ? undefined
        : { status: typeof status === "string" ? status : undefined },
    };
  }

  /** The request switch: see `SiteInternals.handle`. */
  async #handle<Upgraded>(
    request: Request | RequestHead,
    upgrader: Upgrader<Upgraded>,
  ): Promise<Response | Upgraded> {
    const decision = await this.#decide(request);
    upgrader.decided?.();
    if (decision.kind === "accept") return upgrader.upgrade(decision);
    if (decision.kind === "reject") {
      return upgrader.refused?.(decision.response) ?? decision.response;
    }
    let plain: Request;
    try {
      plain = isRequestHead(request) ? request.toRequest() : request;
    } catch {
      // Headers that parse as HTTP but that no `Headers` object takes.
      return new HandshakeError(400, "Malformed request headers").toResponse();
    }
    const response = await this.#serveHttp(plain);
    return upgrader.served?.(response) ?? response;
  }

  /** Decides what to do with a request: see `SiteInternals.decide`. */
  async #decide(request: Request | RequestHead): Promise<UpgradeDecision> {
    const head = isRequestHead(request) ? request : undefined;
    const pathname = head?.pathname ?? new URL((request as Request).url).pathname;
    const route = this.#routes.get(pathname);
    if (route === undefined || !isWebSocketRequest(request)) return { kind: "http" };
    const checked = this.#checkHandshake(route, request);
    if (checked.kind === "reject" || route.options.onUpgrade === undefined) return checked;
    let data: unknown;
    try {
      data = await route.options.onUpgrade(head?.toRequest() ?? request as Request);
    } catch (error) {
      return this.#refused(route, this.#failed(error));
    }
    if (data instanceof Response || looksLikeResponse(data)) {
      const problem = unsendable(data, "onUpgrade's answer");
      if (problem !== undefined) return this.#refused(route, this.#failed(problem));
      return this.#refused(route, { kind: "reject", response: data as Response });
    }
    return { ...checked, data };
  }

  /** Decides without a promise where no hook is awaited: see `SiteInternals.decideAtOnce`. */
  #decideAtOnce(request: RequestHead): AcceptedUpgrade | RejectedUpgrade | undefined {
    const route = this.#routes.get(request.pathname);
    if (route === undefined || route.options.onUpgrade !== undefined) return undefined;
    if (!isWebSocketRequest(request)) return undefined;
    return this.#checkHandshake(route, request);
  }

  /** The handshake checks of a WebSocket request on `route`: its acceptance or refusal. */
  #checkHandshake(
    route: Route,
    request: Request | RequestHead,
  ): AcceptedUpgrade | RejectedUpgrade {
    let acceptance: HandshakeAcceptance;
    try {
      acceptance = checkHandshake(request, {
        ...route.options,
        perMessageDeflate: route.perMessageDeflate ?? false,
      });
    } catch (error) {
      if (error instanceof HandshakeError) {
        return this.#refused(route, { kind: "reject", response: error.toResponse() });
      }
      return this.#refused(route, this.#failed(error));
    }
    return { kind: "accept", route, acceptance, data: undefined };
  }

  /** Reports an error in deciding on an upgrade, which is refused with 500. */
  #failed(error: unknown): RejectedUpgrade {
    return { kind: "reject", response: this.#requestFailed(error) };
  }

  /** Counts a refused upgrade on its route's counters. */
  #refused(route: Route, decision: RejectedUpgrade): RejectedUpgrade {
    route.counters.refused(decision.response.status);
    return decision;
  }

  /** Serves a plain HTTP request: see `SiteInternals.serveHttp`. */
  async #serveHttp(request: Request): Promise<Response> {
    let response: unknown;
    try {
      response = await this.#http(request);
    } catch (error) {
      return this.#requestFailed(error);
    }
    const problem = unsendable(response, "The HTTP handler's answer");
    return problem === undefined ? response as Response : this.#requestFailed(problem);
  }

  /** Reports an error that failed a request: see `SiteInternals.requestFailed`. */
  #requestFailed(error: unknown): Response {
    this.#onError(error);
    return internalServerError();
  }

  /** Opens a session for an upgraded connection: see `SiteInternals.open`. */
  #open(connection: OpenedConnection): Session {
    const { route, acceptance, data } = connection.decision;
    const session: Session = new Session({
      link: connection.link,
      request: connection.request,
      protocol: acceptance.protocol,
      data,
      remoteAddress: connection.remoteAddress,
    }, route.session);
    this.#sessions.add(session);
    session.start(connection.resumed);
    return session;
  }

  /**
   * A fetch handler for the runtime's own server: `Deno.serve(site.fetch)` on Deno,
   * `export default site` for `deno serve` and `bun run`, or
   * `Bun.serve({ fetch: site.fetch, websocket: site.websocket })`, and
   * `export default { fetch: site.fetch }` in a Cloudflare Worker (`WebSocketPair`). It
   * upgrades with the runtime's native WebSocket; elsewhere (Node) it serves plain HTTP
   * and answers an upgrade with 501: use `serve()` there.
   *
   * @example Deno's own server
   * ```ts ignore
   * Deno.serve({ port: 8080 }, site.fetch);
   * ```
   */
  readonly fetch = async (request: Request, context?: unknown): Promise<Response> => {
    // Read before any await: Deno's request info expires at the first one.
    const native = nativeServer();
    const remoteAddress = native?.remoteAddress(request, context);
    try {
      const answer = await this.#handle(request, {
        upgrade: (decision) =>
          native === undefined
            ? new HandshakeError(
              501,
              "This runtime's fetch server cannot upgrade: use serve() from wsport",
            ).toResponse()
            : native.upgrade(this, request, context, decision, remoteAddress),
      });
      // Bun answers the upgrade itself: its fetch handler must then return undefined.
      return answer as Response;
    } catch (error) {
      // Never the runtime's own error page (Bun's shows source code) for a request.
      return this.#requestFailed(error);
    }
  };

  /**
   * Bun's `websocket` handlers for this site, for
   * `Bun.serve({ fetch: site.fetch, websocket: site.websocket })` or `export default site`;
   * `undefined` on other runtimes.
   */
  get websocket(): BunWebSocketHandlers | undefined {
    return nativeServer()?.websocket?.(this);
  }
}

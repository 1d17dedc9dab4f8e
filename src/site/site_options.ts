/**
 * The run-time checks of what `new WebSocketSite()` and `addHandler()` take: every
 * option's name and type, the route's path and the handler class, checked at the call so
 * that a mistake in plain JavaScript fails there, not at the first connection.
 * @module
 */

import { checkDeflateSetting } from "../core/deflate_options.ts";
import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  optionTypeError,
} from "../core/options.ts";
import { WebSocketHandler } from "./handler.ts";
import type { RouteOptions, SiteOptions } from "./site.ts";

const SITE = "new WebSocketSite()";
const ROUTE = "addHandler()";

/** Checks of the site's options, one for each: the type checker keeps the list complete. */
const SITE_CHECKS: { [Name in keyof Required<SiteOptions>]: (value: unknown) => void } = {
  limits: (value) => checkLimitsObject(SITE, value),
  perMessageDeflate: (value) => checkDeflateSetting(SITE, value),
  onError: (value) => checkType(SITE, "onError", value, "function"),
  backplane: checkBackplane,
  onLifecycle: (value) => checkType(SITE, "onLifecycle", value, "function"),
  replay: (value) => {
    const given = checkOptionNames(SITE, value, ["maxMessages", "maxBytes"], "replay");
    checkInteger(SITE, "replay.maxMessages", given.maxMessages, 0);
    checkInteger(SITE, "replay.maxBytes", given.maxBytes, 0);
  },
  encodePublished: (value) => checkType(SITE, "encodePublished", value, "function"),
};

/** Checks of a route's options, one for each: the type checker keeps the list complete. */
const ROUTE_CHECKS: { [Name in keyof Required<RouteOptions>]: (value: unknown) => void } = {
  protocols: checkProtocols,
  allowedOrigins: checkAllowedOrigins,
  perMessageDeflate: (value) => checkDeflateSetting(ROUTE, value),
  maxMessageBytes: (value) => {
    // Its range is the limit's, checked with the other limits.
    if (value !== undefined && typeof value !== "number") {
      throw optionTypeError(ROUTE, "maxMessageBytes", "a number of bytes", value);
    }
  },
  limits: (value) => checkLimitsObject(ROUTE, value),
  onUpgrade: (value) => checkType(ROUTE, "onUpgrade", value, "function"),
};

/**
 * Checks the arguments of `new WebSocketSite(http, options)`. Limits are checked (for
 * their values) when the site resolves them.
 *
 * @throws {TypeError} For an `http` that is not a function, options that are not an
 *   object, an unknown option, or an option of the wrong type.
 * @throws {RangeError} For a `perMessageDeflate` number out of its range.
 */
export function checkSiteArguments(http: unknown, options: unknown): void {
  if (http !== undefined && typeof http !== "function") {
    const hint = isObject(http) && Object.keys(http).some((name) => name in SITE_CHECKS)
      ? " (options go second: new WebSocketSite(undefined, options))"
      : "";
    throw new TypeError(
      `${SITE}: the HTTP handler must be a function (request: Request) => Response, or ` +
        `undefined for a 404 to everything, got ${describeValue(http)}${hint}`,
    );
  }
  const given = checkOptionNames(SITE, options, Object.keys(SITE_CHECKS));
  for (const [name, check] of Object.entries(SITE_CHECKS)) check(given[name]);
}

/**
 * Checks the arguments of `addHandler(path, handler, options)`. Limits are checked (for
 * their values) when the route resolves them.
 *
 * A handler is a class extending `WebSocketHandler`, or any other class whose prototype
 * has the three callbacks as methods (`frameReceived`, `pongReceived`, `connectionLost`):
 * the site only ever calls those.
 *
 * @throws {TypeError} For a path that can never match a request (see
 *   {@linkcode checkRoutePath}), a handler that is not such a class, options that are
 *   not an object, an unknown option, or an option of the wrong type or form.
 * @throws {RangeError} For a `perMessageDeflate` number out of its range.
 */
export function checkRouteArguments(path: unknown, handler: unknown, options: unknown): void {
  checkRoutePath(path);
  checkHandlerClass(handler);
  const given = checkOptionNames(ROUTE, options, Object.keys(ROUTE_CHECKS));
  for (const [name, check] of Object.entries(ROUTE_CHECKS)) check(given[name]);
}

/**
 * Checks that a route path can match a request: routes match the request's path exactly,
 * as the URL parser gives it (`new URL(url).pathname`), so a path the parser would write
 * differently can never match.
 *
 * @throws {TypeError} For a path that is not a string, does not start with "/", holds
 *   `?`, `#` or whitespace, ends with "/" (other than "/" itself), or that the URL parser
 *   would change (dot segments, a backslash, characters it percent-encodes, such as
 *   non-ASCII letters); the message gives the form that would match.
 */
export function checkRoutePath(path: unknown): asserts path is string {
  const fail = (why: string) => {
    throw new TypeError(`${ROUTE}: the path ${describeValue(path)} ${why}`);
  };
  if (typeof path !== "string") {
    throw new TypeError(
      `${ROUTE}: the path must be a string starting with "/", got ${describeValue(path)}`,
    );
  }
  if (!path.startsWith("/")) fail(`must start with "/"`);
  for (const [pattern, what] of [[/\?/, `"?"`], [/#/, `"#"`], [/\s/, "whitespace"]] as const) {
    if (pattern.test(path)) {
      fail(
        `holds ${what}, so it can never match: a route is the URL's path only (` +
          "read the query in onUpgrade or from transport.request)",
      );
    }
  }
  if (path.length > 1 && path.endsWith("/")) {
    fail(
      `ends with "/": routes match exactly, so it would not serve "${
        path.replace(/\/+$/, "")
      }"; give the path without it`,
    );
  }
  const parsed = new URL(`http://localhost${path}`).pathname;
  if (parsed !== path) {
    fail(
      `is not a path as the URL parser gives it, so it can never match: ` +
        `requests for it arrive as "${parsed}"`,
    );
  }
}

/** The callbacks a site calls on a handler. */
const CALLBACKS = ["frameReceived", "pongReceived", "connectionLost"] as const;

/**
 * Checks that a handler is a class the site can make handlers with.
 *
 * @throws {TypeError} For a value that is not a class (an arrow function or a method has
 *   no `new`), or a class neither extending `WebSocketHandler` nor having its callbacks.
 */
export function checkHandlerClass(handler: unknown): void {
  const expected = "a class extending WebSocketHandler";
  if (typeof handler !== "function") {
    throw new TypeError(`${ROUTE}: the handler must be ${expected}, got ${describeValue(handler)}`);
  }
  if (!isConstructor(handler)) {
    throw new TypeError(
      `${ROUTE}: the handler must be ${expected}, got a function that cannot be called with ` +
        "new (an arrow function or a method)",
    );
  }
  if (handler.prototype instanceof WebSocketHandler || handler === WebSocketHandler) return;
  const prototype = handler.prototype as Record<string, unknown> | undefined;
  const missing = CALLBACKS.filter((name) => typeof prototype?.[name] !== "function");
  if (missing.length > 0) {
    throw new TypeError(
      `${ROUTE}: the handler must be ${expected} (or a class with the methods ` +
        `${CALLBACKS.join(", ")}), got ${handler.name || "a class"} lacking ${missing.join(", ")}`,
    );
  }
}

/** Whether `new` can be applied to a function, without calling it. */
function isConstructor(value: unknown): boolean {
  try {
    Reflect.construct(String, [], value as never);
    return true;
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkLimitsObject(caller: string, value: unknown): void {
  if (value !== undefined && !isObject(value)) {
    throw optionTypeError(caller, "limits", "an object of limits ({ maxMessageBytes, … })", value);
  }
}

function checkBackplane(value: unknown): void {
  if (value === undefined) return;
  const expected = "a Backplane: an object with publish(topic, data) and onMessage(listener)";
  if (!isObject(value)) throw optionTypeError(SITE, "backplane", expected, value);
  for (const method of ["publish", "onMessage"]) {
    if (typeof value[method] !== "function") {
      throw optionTypeError(SITE, "backplane", expected, value);
    }
  }
}

/** A token (RFC 9110 §5.6.2), as a subprotocol must be (RFC 6455 §4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function checkProtocols(value: unknown): void {
  if (value === undefined) return;
  const expected = "an array of strings (tokens)";
  if (!Array.isArray(value)) throw optionTypeError(ROUTE, "protocols", expected, value);
  value.forEach((item, index) => {
    if (typeof item !== "string" || !TOKEN.test(item)) {
      throw optionTypeError(
        ROUTE,
        `protocols[${index}]`,
        "a token (letters, digits and !#$%&'*+-.^_`|~, no spaces or commas)",
        item,
      );
    }
  });
}

function checkAllowedOrigins(value: unknown): void {
  if (value === undefined || typeof value === "function") return;
  const expected = 'an array of origins ("https://example.com") or a function (origin) => boolean';
  if (!Array.isArray(value)) throw optionTypeError(ROUTE, "allowedOrigins", expected, value);
  value.forEach((item, index) => {
    const name = `allowedOrigins[${index}]`;
    const form = 'an origin as browsers send it, "scheme://host[:port]" (no path, no default ' +
      'port, the host in ASCII), or "null"';
    if (typeof item !== "string") throw optionTypeError(ROUTE, name, form, item);
    if (item === "null") return;
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw optionTypeError(ROUTE, name, form, item);
    }
    if (origin.toLowerCase() !== item.toLowerCase()) {
      const hint = origin === "null" ? "" : ` (did you mean "${origin}"?)`;
      throw new TypeError(
        `${ROUTE}: option "${name}" must be ${form}, got ${describeValue(item)}${hint}`,
      );
    }
  });
}

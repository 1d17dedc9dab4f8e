/**
 * The opening handshake, server side (RFC 6455 §4.2): checks a request, picks a
 * subprotocol and computes `Sec-WebSocket-Accept`.
 * @module
 */

import { GUID } from "./constants.ts";
import { type DeflateOptions, resolveDeflateOptions } from "./deflate_options.ts";
import { HandshakeError } from "./errors.ts";
import {
  negotiatePerMessageDeflate,
  type PerMessageDeflateAgreement,
} from "./permessage_deflate.ts";

/**
 * What {@linkcode checkHandshake} reads of a request: a `Request` has it, and so can an
 * adapter's lighter view of a request head.
 */
export interface HandshakeRequest {
  /** The request method; a handshake must be `GET`. */
  readonly method: string;
  /**
   * The request line's HTTP version (`"1.1"`), where the server tells it: the Node
   * adapter's request head does; a `Request` does not, and then it is not checked.
   */
  readonly httpVersion?: string;
  /** The request's headers, read by name (as a `Headers` object). */
  readonly headers: {
    /** The header's value, its repeats joined with ", " (as `Headers.get`), or `null`. */
    get(name: string): string | null;
  };
}

/** Options of {@linkcode checkHandshake}. */
export interface HandshakeOptions {
  /**
   * Subprotocols the server speaks, most preferred first. The first of these that the
   * client offers is chosen; when none is offered, the connection has no subprotocol.
   * @default []
   */
  protocols?: readonly string[];
  /**
   * Origins allowed to open a connection (exact `scheme://host[:port]`, case-insensitive),
   * or a predicate. Requests from other origins get 403 (against cross-site WebSocket
   * hijacking). Requests with no `Origin` header (non-browser clients) are allowed.
   * @default undefined: every origin is allowed
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /**
   * Whether to negotiate permessage-deflate (RFC 7692), and how; see
   * `DeflateOptions`. Off, the `Sec-WebSocket-Extensions` header is ignored.
   * @default false
   */
  perMessageDeflate?: boolean | Partial<DeflateOptions>;
}

/** What a valid opening handshake asked for and was granted. */
export interface HandshakeAcceptance {
  /** The client's `Sec-WebSocket-Key`. */
  key: string;
  /** The chosen subprotocol, or `""` when there is none. */
  protocol: string;
  /** The client's `Sec-WebSocket-Extensions` offer, or `""`. */
  extensions: string;
  /**
   * The permessage-deflate parameters agreed, whose `response` goes in the 101's
   * `Sec-WebSocket-Extensions`; absent when compression is off or no offer was
   * acceptable.
   */
  perMessageDeflate?: PerMessageDeflateAgreement;
}

const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;
/** An HTTP token (RFC 9110 §5.6.2), what each subprotocol must be (RFC 6455 §4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Optional whitespace around a list element (RFC 9110 §5.6.3): spaces and tabs. */
const OWS = /^[ \t]+|[ \t]+$/g;
/** A `Content-Length` that announces no body. */
const NO_LENGTH = /^[ \t]*0+[ \t]*$/;

/**
 * Splits a comma-separated header into its non-empty items, without the spaces and tabs
 * around them (RFC 9110 §5.6.1: empty elements are allowed and ignored).
 */
export function headerList(value: string | null): string[] {
  if (value === null) return [];
  const items: string[] = [];
  for (const item of value.split(",")) {
    const trimmed = item.replace(OWS, "");
    if (trimmed !== "") items.push(trimmed);
  }
  return items;
}

/** Whether a comma-separated header contains `token`, case-insensitively. */
function hasToken(value: string | null, token: string): boolean {
  return headerList(value).some((item) => item.toLowerCase() === token);
}

/**
 * Checks that a request is a valid WebSocket opening handshake (RFC 6455 §4.2.1) and
 * picks its subprotocol.
 *
 * @throws {HandshakeError} 405 for a method other than GET; 400 for an HTTP version
 *   before 1.1 (when the request tells it), a missing or empty `Host`, a body
 *   (`Content-Length` other than 0, or any `Transfer-Encoding`), missing `Upgrade` /
 *   `Connection` tokens, a bad `Sec-WebSocket-Key` or a `Sec-WebSocket-Protocol` that is
 *   not a list of tokens; 426 for a version other than 13;
 *   403 for an origin that is not allowed; 400 for a `Sec-WebSocket-Extensions` header
 *   that breaks RFC 6455 §9.1's grammar when `perMessageDeflate` is on. Its
 *   `toResponse()` gives the answer to send.
 *
 * @example
 * ```ts
 * import { checkHandshake } from "./handshake.ts";
 * const request = new Request("http://localhost/chat", {
 *   headers: {
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "Sec-WebSocket-Version": "13",
 *     "Sec-WebSocket-Protocol": "chat, superchat",
 *   },
 * });
 * checkHandshake(request, { protocols: ["superchat"] }).protocol; // "superchat"
 * ```
 */
export function checkHandshake(
  request: HandshakeRequest,
  options: HandshakeOptions = {},
): HandshakeAcceptance {
  if (request.method !== "GET") {
    throw new HandshakeError(405, "A WebSocket handshake must use GET", { Allow: "GET" });
  }
  const headers = request.headers;
  checkMessage(request);
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    throw new HandshakeError(400, 'The Upgrade header must contain "websocket"');
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    throw new HandshakeError(400, 'The Connection header must contain "Upgrade"');
  }
  const version = headers.get("sec-websocket-version");
  if (version?.trim() !== "13") {
    throw new HandshakeError(426, "Unsupported WebSocket version: only 13 is supported", {
      "Sec-WebSocket-Version": "13",
    });
  }
  const key = headers.get("sec-websocket-key")?.trim() ?? "";
  if (!KEY_PATTERN.test(key)) {
    throw new HandshakeError(400, "Sec-WebSocket-Key must be the base64 of 16 bytes");
  }
  const origin = headers.get("origin");
  if (origin !== null && !isOriginAllowed(origin, options.allowedOrigins)) {
    throw new HandshakeError(403, "Origin not allowed");
  }
  const offered = headerList(headers.get("sec-websocket-protocol"));
  if (!offered.every((item) => TOKEN.test(item))) {
    throw new HandshakeError(
      400,
      "Sec-WebSocket-Protocol must be a comma-separated list of tokens",
    );
  }
  const extensions = headers.get("sec-websocket-extensions") ?? "";
  const acceptance: HandshakeAcceptance = {
    key,
    protocol: preferredOffer(offered, options.protocols ?? []),
    extensions,
  };
  const deflate = resolveDeflateOptions(options.perMessageDeflate);
  const agreement = deflate && negotiatePerMessageDeflate(extensions, deflate);
  if (agreement !== undefined) acceptance.perMessageDeflate = agreement;
  return acceptance;
}

/**
 * Checks what RFC 6455 §4.2.1 asks of the HTTP message itself: HTTP/1.1 or later, a
 * `Host`, and no body (frames sent as a GET's body would be read as WebSocket frames).
 */
function checkMessage(request: HandshakeRequest): void {
  const version = request.httpVersion;
  if (version !== undefined) {
    const [major, minor] = version.split(".").map(Number);
    if (!(major > 1 || (major === 1 && minor >= 1))) {
      throw new HandshakeError(400, "A WebSocket handshake needs HTTP/1.1 or later");
    }
  }
  const headers = request.headers;
  if ((headers.get("host") ?? "").replace(OWS, "") === "") {
    throw new HandshakeError(400, "A WebSocket handshake needs a Host header");
  }
  const length = headers.get("content-length");
  if ((length !== null && !NO_LENGTH.test(length)) || headers.get("transfer-encoding") !== null) {
    throw new HandshakeError(400, "A WebSocket handshake must not have a body");
  }
}

function isOriginAllowed(
  origin: string,
  allowed: HandshakeOptions["allowedOrigins"],
): boolean {
  if (allowed === undefined) return true;
  if (typeof allowed === "function") return allowed(origin);
  const wanted = origin.toLowerCase();
  return allowed.some((item) => item.toLowerCase() === wanted);
}

/**
 * Picks the server's most preferred subprotocol among the client's offers.
 * @returns The subprotocol, or `""` when the two lists share none.
 */
export function chooseProtocol(offered: string | null, preferred: readonly string[]): string {
  return preferredOffer(headerList(offered), preferred);
}

function preferredOffer(offers: readonly string[], preferred: readonly string[]): string {
  return preferred.find((protocol) => offers.includes(protocol)) ?? "";
}

/**
 * Computes `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 §1.3).
 *
 * @example
 * ```ts
 * import { computeAccept } from "./handshake.ts";
 * await computeAccept("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export async function computeAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * The headers of the `101 Switching Protocols` response that accepts a handshake.
 *
 * @param acceptance What {@linkcode checkHandshake} returned.
 * @param accept `Sec-WebSocket-Accept` for its key: {@linkcode computeAccept}'s value, or
 *   the same computed with the runtime's own SHA-1.
 * @param extensions The negotiated `Sec-WebSocket-Extensions` answer, if any.
 *
 * @example
 * ```ts
 * import { acceptHeaders, computeAccept } from "./handshake.ts";
 * const key = "dGhlIHNhbXBsZSBub25jZQ==";
 * acceptHeaders({ key, protocol: "", extensions: "" }, await computeAccept(key));
 * // { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" }
 * ```
 */
export function acceptHeaders(
  acceptance: HandshakeAcceptance,
  accept: string,
  extensions = "",
): Record<string, string> {
  const headers: Record<string, string> = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": accept,
  };
  if (acceptance.protocol !== "") headers["Sec-WebSocket-Protocol"] = acceptance.protocol;
  if (extensions !== "") headers["Sec-WebSocket-Extensions"] = extensions;
  return headers;
}

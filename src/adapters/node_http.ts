/**
 * Bridges between `node:http` and web-standard `Request`/`Response`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Readable, type Writable } from "node:stream";
import type { Limits } from "../core/limits.ts";
import type { LazyRequest, RequestSource } from "../site/session.ts";
import type { RequestHead } from "../site/internals.ts";

/**
 * The head of a `node:http` request: all a `Request` without a body is made from, and
 * whether it came over TLS (its URL is then `https:`).
 */
export type MessageHead = Pick<IncomingMessage, "method" | "url" | "rawHeaders"> & {
  readonly secure?: boolean;
};

/** Whether a `node:http` request came over TLS (a `node:https` server's socket). */
export function isSecure(message: IncomingMessage): boolean {
  return (message.socket as { encrypted?: unknown } | null)?.encrypted === true;
}

/**
 * Makes a web `Request` from a `node:http` request head, its body streaming from
 * `body` when one is given and the method has a body. Its URL is `https:` when `head`
 * says it is `secure`, or `body` came over TLS.
 * @throws {TypeError} When a header is not valid for the `Headers` class.
 */
export function toRequest(
  head: MessageHead,
  body?: IncomingMessage,
  signal?: AbortSignal,
): Request {
  const headers = new Headers();
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const host = headers.get("host") ?? "localhost";
  const method = head.method ?? "GET";
  const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
  const secure = head.secure ?? (body !== undefined && isSecure(body));
  return new Request(targetUrl(head.url ?? "/", `${secure ? "https" : "http"}://${host}`), {
    method,
    headers,
    signal,
    body: hasBody ? Readable.toWeb(body) as ReadableStream<Uint8Array> : null,
    // @ts-ignore: Node's Request needs `duplex` for a streamed body; the DOM types lack it.
    duplex: hasBody ? "half" : undefined,
  });
}

/**
 * The URL of a request target. A target that starts with `//` is a path, not the
 * scheme-relative URL the URL parser takes it for (its first segment as the host), as
 * Deno.serve and Bun.serve read it too.
 */
function targetUrl(target: string, base: string): URL {
  return new URL(target.startsWith("//") ? `/.${target}` : target, base);
}

/**
 * Whether a request target is one wsport serves: a path (origin-form) or an absolute URL
 * (RFC 9112 §3.2). Not `*` nor `host:port`, which name no resource here.
 */
export function isRequestTarget(target: string): boolean {
  return target.startsWith("/") || /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
}

/** Request targets the URL parser leaves as they are: no `%`, `\\`, `//` or dot segment. */
const PLAIN_PATH = /^\/(?!\/)[\w\-.~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * A `node:http` request as the site reads it: headers looked up in the raw list, the
 * path taken without a `URL` where the parser would not change it, and the `Request`
 * made only if something asks for it.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * import type { WebSocketSite } from "wsport";
 * import { siteInternals } from "../site/internals.ts";
 * declare const message: IncomingMessage; // as node:http's "upgrade" event gives it
 * declare const site: WebSocketSite;
 * const head = new NodeRequestHead(message);
 * const decision = await siteInternals(site).decide(head); // no Request, Headers or URL made
 * ```
 */
export class NodeRequestHead implements RequestHead {
  readonly method: string;
  readonly httpVersion: string;
  readonly headers: { get(name: string): string | null };
  readonly #message: IncomingMessage;
  #pathname: string | undefined;
  #request: Request | undefined;

  constructor(message: IncomingMessage) {
    this.#message = message;
    this.method = message.method ?? "GET";
    this.httpVersion = message.httpVersion;
    const raw = message.rawHeaders;
    this.headers = {
      get(name: string): string | null {
        const wanted = name.toLowerCase();
        let value: string | null = null;
        for (let i = 0; i < raw.length; i += 2) {
          const field = raw[i];
          if (field.length !== wanted.length || field.toLowerCase() !== wanted) continue;
          value = value === null ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
        }
        return value;
      },
    };
  }

  get pathname(): string {
    if (this.#pathname !== undefined) return this.#pathname;
    const target = this.#message.url ?? "/";
    const end = target.search(/[?#]/);
    const path = end < 0 ? target : target.slice(0, end);
    return this.#pathname = PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)
      ? path
      : targetUrl(target, "http://localhost").pathname;
  }

  /** @throws {TypeError} When a header is not valid for the `Headers` class. */
  toRequest(): Request {
    return this.#request ??= toRequest(this.#message, this.#message);
  }

  /**
   * The request for an open connection: the `Request` if one was made (so a hook and the
   * handler see the same object), else a function that makes an equal one from the head,
   * keeping neither the `IncomingMessage` nor a `Request` while the connection is idle.
   */
  forConnection(): RequestSource {
    return this.#request ?? new KeptRequest(this.#message);
  }
}

/**
 * An upgrade request kept for its connection as one string (whether it came over TLS,
 * the method, the target and the raw header lines, each on a line of its own: none can
 * hold a line break), until a handler asks for the `Request`.
 */
class KeptRequest implements LazyRequest {
  readonly #head: string;

  constructor(message: IncomingMessage) {
    const secure = isSecure(message) ? "s" : "";
    const fields = [secure, message.method ?? "GET", message.url ?? "/", ...message.rawHeaders];
    this.#head = fields.join("\n");
  }

  /** @throws {TypeError} When a header is not valid for the `Headers` class. */
  toRequest(): Request {
    const [secure, method, url, ...rawHeaders] = this.#head.split("\n");
    return toRequest({ method, url, secure: secure === "s", rawHeaders });
  }
}

/**
 * Waits until `stream` takes more data (`drain`) or has closed. When neither happens
 * within `timeoutMs` (`0`: no limit), the peer is reading nothing: `stream` is destroyed.
 */
function drained(stream: Writable, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        stream.destroy();
        done();
      }, timeoutMs);
    }
  });
}

/**
 * Destroys `stream` unless it emits `event` (or closes) within `timeoutMs` of now (`0`:
 * no limit): a peer that neither reads the end of a response nor closes is dropped.
 */
function destroyUnless(stream: Writable, event: "finish" | "close", timeoutMs: number): void {
  if (timeoutMs === 0 || stream.destroyed || (event === "finish" && stream.writableFinished)) {
    return;
  }
  const timer = setTimeout(() => stream.destroy(), timeoutMs);
  // An unref'd timer: a socket waiting for its peer never keeps the process alive.
  (timer as { unref?: () => void }).unref?.();
  const clear = () => {
    clearTimeout(timer);
    stream.off(event, clear);
    stream.off("close", clear);
  };
  stream.once(event, clear);
  stream.once("close", clear);
}

/**
 * Writes a web `Response` to a `node:http` response, streaming its body with
 * backpressure. The body is cancelled when the client goes away, or reads nothing for
 * `writeTimeoutMs` (the socket is then destroyed), so its resources (open files) are
 * released.
 */
export async function writeResponse(
  response: Response,
  target: ServerResponse,
  limits: Pick<Limits, "writeTimeoutMs">,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  target.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) {
    target.end();
    // Until its last bytes are read, the socket stays open.
    destroyUnless(target, "finish", limits.writeTimeoutMs);
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  target.once("close", cancel);
  try {
    while (!target.destroyed) {
      const { done, value } = await reader.read();
      if (done) {
        target.end();
        destroyUnless(target, "finish", limits.writeTimeoutMs);
        return;
      }
      if (!target.write(value)) await drained(target, limits.writeTimeoutMs);
    }
  } catch {
    target.destroy();
  } finally {
    target.off("close", cancel);
    // Destroyed before its "close" event came (a write timeout): cancel now.
    if (target.destroyed) cancel();
  }
}

/**
 * Writes a web `Response` onto a raw socket (one taken over by an `upgrade` event),
 * streaming its body, and ends the socket. A peer that reads nothing for
 * `writeTimeoutMs`, or that has not closed its side `closeTimeoutMs` after the end, is
 * dropped: a refused upgrade never holds a descriptor for longer.
 */
export async function writeRawResponse(
  response: Response,
  socket: Socket,
  limits: Pick<Limits, "writeTimeoutMs" | "closeTimeoutMs">,
): Promise<void> {
  let head = `HTTP/1.1 ${response.status} ${
    response.statusText || statusText(response.status)
  }\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "connection" && name !== "transfer-encoding") head += `${name}: ${value}\r\n`;
  });
  head += "Connection: close\r\n\r\n";
  if (socket.destroyed) {
    await response.body?.cancel();
    return;
  }
  const written = socket.write(head, "latin1");
  if (response.body !== null) {
    const reader = response.body.getReader();
    try {
      if (!written) await drained(socket, limits.writeTimeoutMs);
      while (!socket.destroyed) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!socket.write(value)) await drained(socket, limits.writeTimeoutMs);
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  socket.end();
  // Read on (discarding) until the peer's FIN: Deno's node:net never reports a paused
  // socket closed, which kept the server's shutdown waiting for it.
  socket.resume();
  destroyUnless(socket, "close", limits.closeTimeoutMs);
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "";
}

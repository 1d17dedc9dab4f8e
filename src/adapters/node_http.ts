/**
 * Bridges between `node:http` and web-standard `Request`/`Response`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { RequestSource } from "../site/session.ts";
import type { RequestHead } from "../site/site.ts";

/** The head of a `node:http` request: all a `Request` without a body is made from. */
export type MessageHead = Pick<IncomingMessage, "method" | "url" | "rawHeaders">;

/**
 * Makes a web `Request` from a `node:http` request head, its body streaming from
 * `body` when one is given and the method has a body.
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
  return new Request(targetUrl(head.url ?? "/", `http://${host}`), {
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
 * const head = new NodeRequestHead(message);
 * const decision = await site.decide(head); // no Request, Headers or URL made
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
    if (this.#request !== undefined) return this.#request;
    const { method, url } = this.#message;
    // One flat string rather than a list of them (neither can hold a line break).
    const lines = this.#message.rawHeaders.join("\n");
    return () => toRequest({ method, url, rawHeaders: lines === "" ? [] : lines.split("\n") });
  }
}

/**
 * Writes a web `Response` to a `node:http` response, streaming its body with
 * backpressure. The body is cancelled when the client goes away, so its resources
 * (open files) are released.
 */
export async function writeResponse(response: Response, target: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  target.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) {
    target.end();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  target.once("close", cancel);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (target.destroyed) return;
      if (!target.write(value)) {
        await new Promise<void>((resolve) => {
          target.once("drain", resolve);
          target.once("close", resolve);
        });
      }
    }
    target.end();
  } catch {
    target.destroy();
  } finally {
    target.off("close", cancel);
  }
}

/**
 * Writes a web `Response` onto a raw socket (one taken over by an `upgrade` event),
 * streaming its body, and closes the socket.
 */
export async function writeRawResponse(response: Response, socket: Socket): Promise<void> {
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
  socket.write(head, "latin1");
  if (response.body !== null) {
    const reader = response.body.getReader();
    try {
      while (!socket.destroyed) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!socket.write(value)) {
          await new Promise<void>((resolve) => {
            socket.once("drain", resolve);
            socket.once("close", resolve);
          });
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  socket.end();
  // Read on (discarding) until the peer's FIN: Deno's node:net never reports a paused
  // socket closed, which kept the server's shutdown waiting for it.
  socket.resume();
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

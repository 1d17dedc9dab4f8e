/**
 * Bridges between `node:http` and web-standard `Request`/`Response`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";

/**
 * Makes a web `Request` from a `node:http` request. The body streams from the socket.
 * @throws {TypeError} When a header is not valid for the `Headers` class.
 */
export function toRequest(message: IncomingMessage, signal?: AbortSignal): Request {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const host = headers.get("host") ?? "localhost";
  const method = message.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(new URL(message.url ?? "/", `http://${host}`), {
    method,
    headers,
    signal,
    body: hasBody ? Readable.toWeb(message) as ReadableStream<Uint8Array> : null,
    // @ts-ignore: Node's Request needs `duplex` for a streamed body; the DOM types lack it.
    duplex: hasBody ? "half" : undefined,
  });
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

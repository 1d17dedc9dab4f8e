/**
 * Clients for the adapter tests, independent of the server under test: the runtime's own
 * `WebSocket` (the `ws` package on Node), and raw `node:net` sockets for what a
 * WebSocket client cannot do (a wrong version, a stalled handshake, a peer that never
 * answers pings or never reads).
 * @module
 */

import { connect, type Socket } from "node:net";
import { Opcode } from "../../src/core/constants.ts";
import { buildFrame, concat, type Frame, FrameParser } from "../../src/core/frame.ts";
import { detectRuntime } from "../../src/adapters/runtime.ts";

/** A message as a client receives it: a `string` for text, bytes for binary. */
export type Message = string | Uint8Array;

/** How a client saw its connection close. */
export interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The slice of the WebSocket API used here: the same on `ws`, Deno and Bun. */
interface EventSocket {
  binaryType: string;
  readonly protocol: string;
  readonly extensions: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: Closed) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket client class with the browser's API: `ws`'s, or a runtime's global one. */
export type EventSocketClass = new (url: string, protocols?: string[]) => EventSocket;

// On Bun, `import "ws"` gives Bun's own shim, so the global WebSocket is used there.
const ClientSocket: EventSocketClass = detectRuntime() === "node"
  ? (await import("ws")).WebSocket as unknown as EventSocketClass
  : (globalThis as unknown as { WebSocket: EventSocketClass }).WebSocket;

/** How long any single wait in a test may take before it fails. */
export const WAIT_MS = 10_000;

/**
 * Settles like `promise`, or rejects naming `what` when `ms` pass first. The timer is
 * cleared either way, so nothing is left running.
 */
export function within<T>(promise: Promise<T>, what: string, ms: number = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A queue that hands out values in arrival order, to waiters or later takers. */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  #ended: Error | undefined;

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter.resolve(item);
  }

  /** No more items: waiters and later takers get `error`. */
  end(error: Error): void {
    this.#ended ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  take(what: string): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    return within(new Promise((resolve, reject) => this.#waiters.push({ resolve, reject })), what);
  }

  get size(): number {
    return this.#items.length;
  }
}

const asBytes = (data: unknown): Message => {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError(`Unexpected message type ${Object.prototype.toString.call(data)}`);
};

/** A WebSocket client: the runtime's own (`ws` on Node), with awaitable messages. */
export class Client {
  /** Settles with the close code, reason and cleanliness the client saw. */
  readonly closed: Promise<Closed>;
  readonly #socket: EventSocket;
  readonly #inbox = new Inbox<Message>();

  private constructor(socket: EventSocket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        const closed = { code: event.code, reason: event.reason, wasClean: event.wasClean };
        this.#inbox.end(new Error(`Closed with ${closed.code} "${closed.reason}"`));
        resolve(closed);
      };
    });
    socket.onmessage = (event) => this.#inbox.push(asBytes(event.data));
  }

  /**
   * Opens a connection to `url`, offering `protocols`, with `SocketClass` (by default `ws`
   * on Node, the global `WebSocket` elsewhere).
   * @throws {Error} When the connection fails before it opens.
   */
  static open(
    url: string,
    protocols?: string[],
    SocketClass: EventSocketClass = ClientSocket,
  ): Promise<Client> {
    const socket = protocols === undefined ? new SocketClass(url) : new SocketClass(url, protocols);
    socket.binaryType = "arraybuffer";
    const client = new Client(socket);
    return within(
      new Promise<Client>((resolve, reject) => {
        socket.onopen = () => {
          socket.onerror = () => {};
          resolve(client);
        };
        socket.onerror = () => reject(new Error(`Could not connect to ${url}`));
      }),
      `opening ${url}`,
    );
  }

  /** The subprotocol the server chose, or `""`. */
  get protocol(): string {
    return this.#socket.protocol;
  }

  /** The extensions the server accepted, as its `Sec-WebSocket-Extensions` said, or `""`. */
  get extensions(): string {
    return this.#socket.extensions;
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.#inbox.size;
  }

  send(data: string | Uint8Array): void {
    this.#socket.send(data);
  }

  /** The next message; rejects once the connection has closed and none is left. */
  next(): Promise<Message> {
    return this.#inbox.take("the next message");
  }

  /** The next `count` messages, in order. */
  async take(count: number): Promise<Message[]> {
    const messages: Message[] = [];
    for (let i = 0; i < count; i++) messages.push(await this.next());
    return messages;
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }

  /** Closes (when still open) and waits until the connection is closed. */
  async closeAndWait(code = 1000): Promise<Closed> {
    this.#socket.close(code);
    return await within(this.closed, "the client to close");
  }
}

/** An HTTP response read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = encoder.encode("\r\n\r\n");

function indexOfHeadEnd(bytes: Uint8Array): number {
  outer: for (let i = 0; i + HEAD_END.length <= bytes.length; i++) {
    for (let j = 0; j < HEAD_END.length; j++) if (bytes[i + j] !== HEAD_END[j]) continue outer;
    return i;
  }
  return -1;
}

function parseHead(head: string): { status: number; headers: Headers } {
  const [statusLine, ...lines] = head.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`Not an HTTP response: ${JSON.stringify(statusLine)}`);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(match[1]), headers };
}

/** A request head for an opening handshake to `path`, with extra header lines. */
export function upgradeRequest(path: string, extra: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...extra,
  };
  let head = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

/**
 * A raw TCP client: it writes what it is told, reads the HTTP answer and then frames
 * (parsed by the core's `FrameParser`), and can stop reading altogether.
 */
export class RawClient {
  /** Settles when the socket has closed, for whatever reason. */
  readonly ended: Promise<void>;
  readonly socket: Socket;
  readonly #frames = new Inbox<Frame>();
  readonly #parser = new FrameParser({ role: "client", maxFrameBytes: 1 << 30 });
  #head: Uint8Array | undefined = new Uint8Array(0);
  #headWaiter: ((head: string) => void) | undefined;
  #endedNow = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.ended = new Promise((resolve) =>
      socket.once("close", () => {
        this.#endedNow = true;
        this.#frames.end(new Error("The socket closed"));
        resolve();
      })
    );
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number): Promise<RawClient> {
    return within(
      new Promise<RawClient>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          resolve(new RawClient(socket));
        });
      }),
      `connecting to port ${port}`,
    );
  }

  /** Connects, completes an opening handshake to `path` and checks it got 101. */
  static async upgraded(port: number, path: string): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.write(upgradeRequest(path));
    const head = await client.responseHead();
    if (head.status !== 101) {
      client.destroy();
      throw new Error(`Expected 101, got ${head.status}`);
    }
    return client;
  }

  /** Whether the socket has closed. */
  get isEnded(): boolean {
    return this.#endedNow;
  }

  write(data: string | Uint8Array): boolean {
    return this.socket.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Sends one masked frame, as a client must. */
  sendFrame(opcode: number, payload: Uint8Array | string): boolean {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    const mask = crypto.getRandomValues(new Uint8Array(4));
    return this.write(buildFrame(opcode, bytes, { mask }));
  }

  /** Sends a masked Close frame with `code`. */
  sendClose(code: number): boolean {
    return this.sendFrame(Opcode.Close, new Uint8Array([code >> 8, code & 0xff]));
  }

  /** The status line and headers of the HTTP response. */
  responseHead(): Promise<{ status: number; headers: Headers }> {
    return within(
      new Promise<string>((resolve) => this.#headWaiter = resolve),
      "the response head",
    ).then(parseHead);
  }

  /** The next frame the server sent; rejects once the socket has closed. */
  nextFrame(): Promise<Frame> {
    return this.#frames.take("the next frame");
  }

  /** Stops reading: the kernel buffers fill and the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#head !== undefined) {
      const bytes = new Uint8Array(this.#head.length + chunk.length);
      bytes.set(this.#head);
      bytes.set(chunk, this.#head.length);
      const end = indexOfHeadEnd(bytes);
      if (end < 0) {
        this.#head = bytes;
        return;
      }
      this.#head = undefined;
      this.#headWaiter?.(decoder.decode(bytes.subarray(0, end)));
      chunk = bytes.subarray(end + HEAD_END.length);
    }
    if (chunk.length === 0) return;
    // The parser unmasks in place and keeps views: give it its own copy.
    this.#parser.push(chunk.slice());
    for (let frame = this.#parser.next(); frame !== undefined; frame = this.#parser.next()) {
      this.#frames.push(frame);
    }
  }
}

/** What a raw client read until the server's Close frame or the end of TCP. */
export interface Reading {
  /** The opcodes of the frames before the Close frame. */
  opcodes: number[];
  /** The Close frame's code and reason; `undefined` when TCP ended without one. */
  close: { code: number; reason: string } | undefined;
}

/** Reads frames until a Close frame arrives or the socket closes (at most `limit`). */
export async function readToClose(client: RawClient, limit = 10_000): Promise<Reading> {
  const reading: Reading = { opcodes: [], close: undefined };
  for (let i = 0; i < limit; i++) {
    let frame: Frame;
    try {
      frame = await client.nextFrame();
    } catch {
      return reading;
    }
    if (frame.opcode === Opcode.Close) {
      const { payload } = frame;
      const code = (payload[0] << 8) | payload[1];
      reading.close = { code, reason: decoder.decode(payload.subarray(2)) };
      return reading;
    }
    reading.opcodes.push(frame.opcode);
  }
  throw new Error(`More than ${limit} frames before a close`);
}

/** Decodes a chunked body (RFC 9112 §7.1), or `undefined` while it is incomplete. */
function dechunk(bytes: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (true) {
    const text = decoder.decode(bytes.subarray(offset, offset + 20));
    const lineEnd = text.indexOf("\r\n");
    if (lineEnd < 0) return undefined;
    const size = parseInt(text.slice(0, lineEnd), 16);
    const start = offset + lineEnd + 2;
    if (start + size + 2 > bytes.length) return undefined;
    if (size === 0) break;
    parts.push(bytes.subarray(start, start + size));
    offset = start + size + 2;
  }
  return concat(parts);
}

/**
 * Sends `request` over a fresh raw socket and reads the whole response: until the server
 * closes the connection, or the body is as long as `Content-Length` or its last chunk
 * came, or (for a 101) the head has arrived. The socket is closed afterwards.
 */
export async function rawRequest(port: number, request: string): Promise<RawResponse> {
  const socket = connect(port, "127.0.0.1");
  const chunks: Uint8Array[] = [];
  try {
    return await within(
      new Promise<RawResponse>((resolve, reject) => {
        let total = 0;
        const tryFinish = (atEnd: boolean) => {
          const bytes = new Uint8Array(total);
          let offset = 0;
          for (const chunk of chunks) {
            bytes.set(chunk, offset);
            offset += chunk.length;
          }
          const end = indexOfHeadEnd(bytes);
          if (end < 0) {
            if (atEnd) reject(new Error("The connection closed before a response head"));
            return;
          }
          const head = parseHead(decoder.decode(bytes.subarray(0, end)));
          const raw = bytes.subarray(end + HEAD_END.length);
          const chunked = head.headers.get("transfer-encoding") === "chunked";
          const body = chunked ? dechunk(raw) : raw;
          const length = head.headers.get("content-length");
          const complete = head.status === 101 || (chunked && body !== undefined) ||
            (length !== null && raw.length >= Number(length));
          if (complete || atEnd) {
            if (body === undefined) reject(new Error("The chunked body ended early"));
            else resolve({ ...head, body: decoder.decode(body) });
          }
        };
        socket.on("data", (chunk: Uint8Array) => {
          chunks.push(chunk);
          total += chunk.length;
          tryFinish(false);
        });
        socket.once("end", () => tryFinish(true));
        socket.once("error", reject);
        socket.once("connect", () => socket.write(request));
      }),
      `a response to ${JSON.stringify(request.split("\r\n")[0])}`,
    );
  } finally {
    socket.destroy();
  }
}

/** Resolves when a TCP connection to `port` is refused; rejects when it is accepted. */
export function assertRefused(port: number): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("error", () => {
        socket.destroy();
        resolve();
      });
      socket.once("connect", () => {
        socket.destroy();
        reject(new Error(`Port ${port} still accepts connections`));
      });
    }),
    `connecting to port ${port}`,
  );
}

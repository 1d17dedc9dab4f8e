/**
 * A WebSocket client over raw `node:net` for the conformance suite: it writes exactly the
 * bytes a case gives it (framed by `wire.ts`, never by wsport) and records everything
 * the server sends back, in order, as arrivals a case can compare and describe.
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { closeCodeOf, closePayload, encodeFrame, FrameDecoder, OP, sameBytes } from "./wire.ts";

/**
 * Time a wait may pass with no byte from the server before the peer stops waiting: cases
 * measure progress, not speed.
 */
export const IDLE_MS = 3_000;

/** Something the server did, as the client saw it. */
export type Arrival =
  | { kind: "text" | "binary" | "ping" | "pong"; data: Uint8Array }
  /** A Close frame; `code` is undefined when it carried none. */
  | { kind: "close"; code: number | undefined }
  /** A frame RFC 6455 forbids a server to send. */
  | { kind: "violation"; what: string }
  /** The server closed the TCP connection (FIN or reset). */
  | { kind: "end" };

const decoder = new TextDecoder();
const CRLF2 = "\r\n\r\n";

/** The `Sec-WebSocket-Accept` value for a key (RFC 6455 §1.3), computed here by hand. */
function acceptFor(key: string): string {
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest(
    "base64",
  );
}

/** An HTTP response head: the status and the headers, names in lower case. */
export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

function parseHead(text: string): ResponseHead {
  const [statusLine, ...lines] = text.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  }
  return { status, headers };
}

/** The lines of an opening handshake request, which a case may change or drop. */
export function handshakeLines(
  path: string,
  key: string,
  changes: Record<string, string | null> = {},
): string {
  const headers: Record<string, string | null> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": key,
    "Sec-WebSocket-Version": "13",
    ...changes,
  };
  const method = changes[":method"] ?? "GET";
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== null && !name.startsWith(":")) head += `${name}: ${value}\r\n`;
  }
  return head + "\r\n";
}

/** Opens a TCP connection to 127.0.0.1:`port`. */
function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Could not connect to port ${port}`));
    }, IDLE_MS);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/**
 * Sends a request and reads the response head (nothing more), or `undefined` when the
 * server closes or goes quiet first. The socket is closed afterwards.
 */
export async function requestHead(
  port: number,
  request: string,
): Promise<ResponseHead | undefined> {
  const socket = await dial(port);
  try {
    return await new Promise<ResponseHead | undefined>((resolve) => {
      let text = "";
      const timer = setTimeout(() => resolve(undefined), IDLE_MS);
      socket.on("data", (chunk: Uint8Array) => {
        text += decoder.decode(chunk);
        const end = text.indexOf(CRLF2);
        if (end >= 0) {
          clearTimeout(timer);
          resolve(parseHead(text.slice(0, end)));
        }
      });
      socket.on("error", () => {});
      socket.once("close", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      socket.write(request);
    });
  } finally {
    socket.destroy();
  }
}

interface Waiter {
  done: () => boolean;
  resolve: (done: boolean) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * A client connection after a successful opening handshake. Data frames are gathered
 * into messages; a Close from the server is answered with a Close carrying the same
 * code, as a client must (RFC 6455 §5.5.1).
 */
export class Peer {
  /** What the server sent, in order. */
  readonly arrivals: Arrival[] = [];
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #waiters = new Set<Waiter>();
  #message: { kind: "text" | "binary"; parts: Uint8Array[] } | undefined;
  #closeSent = false;
  #closeReceived = false;
  #ended = false;

  private constructor(socket: Socket, rest: Uint8Array) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.#onBytes(chunk));
    socket.on("error", () => {});
    socket.once("close", () => this.#onEnd());
    socket.once("end", () => this.#onEnd());
    if (rest.length > 0) this.#onBytes(rest);
  }

  /**
   * Connects and performs the opening handshake on `path`.
   * @throws {Error} When the server does not answer 101 with the right accept value.
   */
  static async open(port: number, path = "/echo"): Promise<Peer> {
    const socket = await dial(port);
    const key = randomBytes(16).toString("base64");
    try {
      const rest = await new Promise<Uint8Array>((resolve, reject) => {
        let received = new Uint8Array(0);
        const timer = setTimeout(() => reject(new Error("No handshake response")), IDLE_MS);
        const onData = (chunk: Uint8Array) => {
          const joined = new Uint8Array(received.length + chunk.length);
          joined.set(received);
          joined.set(chunk, received.length);
          received = joined;
          const end = decoder.decode(received).indexOf(CRLF2);
          if (end < 0) return;
          clearTimeout(timer);
          socket.off("data", onData);
          const head = parseHead(decoder.decode(received).slice(0, end));
          if (head.status !== 101) reject(new Error(`Handshake answered ${head.status}`));
          else if (head.headers.get("sec-websocket-accept") !== acceptFor(key)) {
            reject(new Error("Wrong Sec-WebSocket-Accept"));
          } else {
            // The head is ASCII, so its length in characters is its length in bytes.
            resolve(received.subarray(end + CRLF2.length));
          }
        };
        socket.on("data", onData);
        socket.once("close", () => reject(new Error("Closed during the handshake")));
        socket.write(handshakeLines(path, key));
      });
      socket.removeAllListeners("close");
      return new Peer(socket, rest);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** Whether the server has closed the TCP connection. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether a Close frame has come from the server. */
  get closeReceived(): boolean {
    return this.#closeReceived;
  }

  /** Writes bytes as they are. */
  write(data: Uint8Array): void {
    if (!this.#socket.destroyed) this.#socket.write(data);
  }

  /**
   * Writes bytes in pieces of `size`, each in its own TCP write, waiting for each write
   * to be handed to the kernel before the next.
   */
  async writeChopped(data: Uint8Array, size = 1): Promise<void> {
    for (let at = 0; at < data.length && !this.#socket.destroyed; at += size) {
      await new Promise<void>((resolve) => {
        this.#socket.write(data.subarray(at, at + size), () => resolve());
      });
    }
  }

  /** Sends a masked Close frame with `code` (none when undefined). */
  sendClose(code?: number): void {
    this.#closeSent = true;
    this.write(encodeFrame({ opcode: OP.close, payload: closePayload(code) }));
  }

  /**
   * Waits until `count` things have arrived, the server closed TCP, or it stayed quiet
   * for {@linkcode IDLE_MS}.
   * @returns Whether the count was reached.
   */
  waitFor(count: number): Promise<boolean> {
    return this.#wait(() => this.arrivals.length >= count || this.#ended).then(() =>
      this.arrivals.length >= count
    );
  }

  /** Waits until a Close frame arrives or TCP ends (or quiet); true for a Close. */
  waitForClose(ms = IDLE_MS): Promise<boolean> {
    return this.#wait(() => this.#closeReceived || this.#ended, ms).then(() => this.#closeReceived);
  }

  /** Waits until the server closes TCP (or goes quiet); true when it did. */
  waitForEnd(): Promise<boolean> {
    return this.#wait(() => this.#ended).then(() => this.#ended);
  }

  /** Sends a clean Close 1000 (when no Close was exchanged yet) and waits for TCP to end. */
  async closeCleanly(): Promise<void> {
    if (!this.#closeSent && !this.#closeReceived && !this.#ended) this.sendClose(1000);
    await this.waitForEnd();
  }

  destroy(): void {
    this.#socket.destroy();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.#waiters.clear();
  }

  #wait(done: () => boolean, ms = IDLE_MS): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { done, resolve };
      this.#waiters.add(waiter);
      this.#arm(waiter, ms);
    });
  }

  /** (Re)starts a waiter's quiet timer. */
  #arm(waiter: Waiter, ms = IDLE_MS): void {
    clearTimeout(waiter.timer);
    waiter.timer = setTimeout(() => {
      this.#waiters.delete(waiter);
      waiter.resolve(false);
    }, ms);
  }

  /** Something happened: settles the waiters now satisfied and re-arms the others. */
  #progress(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.done()) {
        clearTimeout(waiter.timer);
        this.#waiters.delete(waiter);
        waiter.resolve(true);
      } else {
        this.#arm(waiter);
      }
    }
  }

  #onBytes(chunk: Uint8Array): void {
    for (const frame of this.#decoder.push(chunk)) {
      if (this.#closeReceived) {
        this.arrivals.push({ kind: "violation", what: "a frame after its Close" });
      } else if (frame.masked) {
        this.arrivals.push({ kind: "violation", what: "a masked frame" });
      } else if (frame.rsv !== 0) {
        this.arrivals.push({ kind: "violation", what: `RSV bits ${frame.rsv}` });
      } else if (frame.opcode >= 0x8) {
        this.#onControl(frame.opcode, frame.payload);
      } else {
        this.#onData(frame.opcode, frame.fin, frame.payload);
      }
    }
    this.#progress();
  }

  #onData(opcode: number, fin: boolean, payload: Uint8Array): void {
    if (opcode === OP.text || opcode === OP.binary) {
      if (this.#message !== undefined) {
        this.arrivals.push({ kind: "violation", what: "a new message inside a fragmented one" });
      }
      this.#message = { kind: opcode === OP.text ? "text" : "binary", parts: [] };
    } else if (opcode !== OP.continuation || this.#message === undefined) {
      this.arrivals.push({ kind: "violation", what: `an unexpected opcode ${opcode}` });
      return;
    }
    const message = this.#message!;
    message.parts.push(payload);
    if (!fin) return;
    this.#message = undefined;
    const data = new Uint8Array(message.parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of message.parts) {
      data.set(part, at);
      at += part.length;
    }
    this.arrivals.push({ kind: message.kind, data });
  }

  #onControl(opcode: number, payload: Uint8Array): void {
    if (opcode === OP.ping || opcode === OP.pong) {
      this.arrivals.push({ kind: opcode === OP.ping ? "ping" : "pong", data: payload });
    } else if (opcode === OP.close) {
      this.#closeReceived = true;
      const code = closeCodeOf(payload);
      this.arrivals.push({ kind: "close", code });
      if (!this.#closeSent) this.sendClose(code);
    } else {
      this.arrivals.push({ kind: "violation", what: `a reserved opcode ${opcode}` });
    }
  }

  #onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.arrivals.push({ kind: "end" });
    this.#progress();
  }
}

/** Says in a few words what one arrival was. */
export function describeArrival(arrival: Arrival): string {
  switch (arrival.kind) {
    case "close":
      return arrival.code === undefined ? "Close (no code)" : `Close ${arrival.code}`;
    case "end":
      return "TCP closed";
    case "violation":
      return `server sent ${arrival.what}`;
    default:
      return `${arrival.kind} ${arrival.data.length} B`;
  }
}

/**
 * Describes what arrived, marking payloads that differ from the expected ones, folding
 * runs of the same thing ("pong 0 B ×10"), and saying when TCP stayed open.
 */
export function describeArrivals(
  arrivals: readonly Arrival[],
  expected: readonly Arrival[] = arrivals,
): string {
  const words = arrivals.map((arrival, i) => {
    const text = describeArrival(arrival);
    const wanted = expected[i];
    const differs = wanted !== undefined && "data" in arrival && "data" in wanted &&
      arrival.kind === wanted.kind && !sameBytes(arrival.data, wanted.data);
    return differs ? `${text} (other bytes)` : text;
  });
  if (arrivals.at(-1)?.kind !== "end") words.push("TCP left open");
  const folded: string[] = [];
  let count = 0;
  for (let i = 0; i < words.length; i++) {
    count++;
    if (words[i + 1] === words[i]) continue;
    folded.push(count > 1 ? `${words[i]} ×${count}` : words[i]);
    count = 0;
  }
  return folded.join(", ");
}

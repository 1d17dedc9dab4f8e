/**
 * A TCP tap between a WebSocket client and the server under test: it forwards every
 * byte untouched and records the 101's `Sec-WebSocket-Extensions` and every frame with
 * its payload. It reads frames with the conformance suite's hand-written decoder
 * ({@linkcode FrameDecoder} in `../conformance/wire.ts`), independent of wsport's frame
 * code and of both peers, so it shows what really crossed the wire, whoever the client is.
 * @module
 */

import { connect, createServer, type Server as NetServer, type Socket } from "node:net";
import { FrameDecoder, join } from "../conformance/wire.ts";
import { within } from "../helpers/client.ts";

/** A frame seen on the wire. */
export interface TappedFrame {
  /** `"in"`: client to server; `"out"`: server to client. */
  direction: "in" | "out";
  opcode: number;
  fin: boolean;
  /** RSV1 is 4. */
  rsv: number;
  /** The payload as sent (unmasked), compressed or not. */
  payload: Uint8Array;
}

/** A data message seen on the wire: its frames' payloads joined. */
export interface TappedMessage {
  /** The first frame's opcode: 1 for text, 2 for binary. */
  opcode: number;
  /** Whether the first frame had RSV1 set (RFC 7692 §6). */
  compressed: boolean;
  /** The payloads of its frames, joined, as sent. */
  payload: Uint8Array;
}

/** What the compression checks read from a connection: a {@linkcode Tap}, or a fake one. */
export interface Wire {
  /** The `Sec-WebSocket-Extensions` of the 101 response, or `""`. */
  readonly extensions: string;
  /** The data messages seen going one way, in order. */
  messages(direction: "in" | "out"): TappedMessage[];
}

const HEAD_END = "\r\n\r\n";

/** Reads one direction: the HTTP head as text, then frames. */
class DirectionReader {
  /** The HTTP head, once complete (without the blank line). */
  head = "";
  #partialHead = "";
  #inHead = true;
  readonly #frames = new FrameDecoder();
  readonly #onFrame: (frame: Omit<TappedFrame, "direction">) => void;

  constructor(onFrame: (frame: Omit<TappedFrame, "direction">) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.#inHead) {
      const text = this.#partialHead + new TextDecoder("latin1").decode(bytes);
      const end = text.indexOf(HEAD_END);
      if (end < 0) {
        this.#partialHead = text;
        return;
      }
      // latin1 maps bytes to characters one to one.
      const consumed = end + HEAD_END.length - this.#partialHead.length;
      this.head = text.slice(0, end);
      this.#inHead = false;
      bytes = bytes.subarray(consumed);
    }
    if (bytes.length === 0) return;
    // The decoder copies what it holds, so the forwarded chunk is never changed.
    for (const { fin, rsv, opcode, payload } of this.#frames.push(bytes)) {
      this.#onFrame({ fin, rsv, opcode, payload });
    }
  }
}

/** A running tap in front of one server port. */
export class Tap implements Wire {
  /** Every frame seen, in the order seen. */
  readonly frames: TappedFrame[] = [];
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  #response = "";

  private constructor(server: NetServer) {
    this.#server = server;
  }

  /** Starts a tap on 127.0.0.1 (a free port) forwarding to 127.0.0.1:`target`. */
  static async start(target: number): Promise<Tap> {
    const server = createServer();
    const tap = new Tap(server);
    server.on("connection", (client) => tap.#forward(client, target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return tap;
  }

  /** The tap's port: connect clients here. */
  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** The `Sec-WebSocket-Extensions` of the last 101 response, or `""`. */
  get extensions(): string {
    const line = this.#response.split("\r\n").find((header) =>
      header.toLowerCase().startsWith("sec-websocket-extensions:")
    );
    return line === undefined ? "" : line.slice(line.indexOf(":") + 1).trim();
  }

  /**
   * The data messages seen going one way, in order: each text or binary frame with the
   * continuation frames up to the one with FIN (control frames may come between).
   */
  messages(direction: "in" | "out"): TappedMessage[] {
    const messages: TappedMessage[] = [];
    let first: TappedFrame | undefined;
    let payloads: Uint8Array[] = [];
    for (const frame of this.frames) {
      if (frame.direction !== direction || frame.opcode >= 0x8) continue;
      if (frame.opcode !== 0) {
        first = frame;
        payloads = [];
      }
      payloads.push(frame.payload);
      if (frame.fin && first !== undefined) {
        messages.push({
          opcode: first.opcode,
          compressed: (first.rsv & 4) !== 0,
          payload: join(payloads),
        });
        first = undefined;
      }
    }
    return messages;
  }

  /** Closes the tap and every connection through it. */
  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await within(
      new Promise<void>((resolve) => this.#server.close(() => resolve())),
      "the tap to close",
    );
  }

  #forward(client: Socket, target: number): void {
    const server = connect(target, "127.0.0.1");
    this.#sockets.add(client);
    this.#sockets.add(server);
    const record = (direction: "in" | "out") => (frame: Omit<TappedFrame, "direction">) =>
      this.frames.push({ direction, ...frame });
    const inbound = new DirectionReader(record("in"));
    const outbound = new DirectionReader(record("out"));
    client.on("data", (chunk: Uint8Array) => {
      inbound.push(chunk);
      server.write(chunk);
    });
    server.on("data", (chunk: Uint8Array) => {
      outbound.push(chunk);
      if (outbound.head !== "") this.#response = outbound.head;
      client.write(chunk);
    });
    client.on("end", () => server.end());
    server.on("end", () => client.end());
    for (const socket of [client, server]) {
      socket.on("error", () => {
        client.destroy();
        server.destroy();
      });
      socket.on("close", () => {
        this.#sockets.delete(socket);
        (socket === client ? server : client).end();
      });
    }
  }
}

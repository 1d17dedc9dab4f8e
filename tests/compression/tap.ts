/**
 * A TCP tap between a WebSocket client and the server under test: it forwards every
 * byte untouched and records, independently of both, the 101's
 * `Sec-WebSocket-Extensions` and each data frame's direction, opcode, RSV bits and size.
 * It shows that compression really happens on the wire, whoever the client is.
 * @module
 */

import { connect, createServer, type Server as NetServer, type Socket } from "node:net";
import { type Frame, FrameParser } from "../../src/core/frame.ts";
import { within } from "../helpers/client.ts";

/** A frame seen on the wire. */
export interface TappedFrame {
  /** `"in"`: client to server; `"out"`: server to client. */
  direction: "in" | "out";
  opcode: number;
  fin: boolean;
  /** RSV1 is 4. */
  rsv: number;
  /** The payload's size on the wire. */
  length: number;
}

const HEAD_END = "\r\n\r\n";

/** Reads one direction: the HTTP head as text, then frames. */
class DirectionReader {
  /** The HTTP head, once complete (without the blank line). */
  head = "";
  #partialHead = "";
  readonly #parser: FrameParser;
  readonly #onFrame: (frame: Frame) => void;
  #inHead = true;

  constructor(role: "server" | "client", onFrame: (frame: Frame) => void) {
    this.#parser = new FrameParser({ role, maxFrameBytes: 1 << 30 });
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
    // The parser unmasks in place: it gets a copy, never the bytes being forwarded
    // (a Buffer's slice() is a view, hence the copy through Uint8Array).
    this.#parser.push(new Uint8Array(bytes));
    for (let frame = this.#parser.next(); frame !== undefined; frame = this.#parser.next()) {
      this.#onFrame(frame);
    }
  }
}

/** A running tap in front of one server port. */
export class Tap {
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

  /** The data frames (text, binary, continuation) seen going one way. */
  dataFrames(direction: "in" | "out"): TappedFrame[] {
    return this.frames.filter((frame) => frame.direction === direction && frame.opcode < 0x8);
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
    const record = (direction: "in" | "out") => (frame: Frame) =>
      this.frames.push({
        direction,
        opcode: frame.opcode,
        fin: frame.fin,
        rsv: frame.rsv,
        length: frame.length,
      });
    const inbound = new DirectionReader("server", record("in"));
    const outbound = new DirectionReader("client", record("out"));
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

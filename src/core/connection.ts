/**
 * The RFC 6455 protocol state machine, sans I/O: bytes and time in, events and bytes out.
 * @module
 */

import {
  buildClosePayload,
  checkCloseArguments,
  type CloseStatus,
  parseClosePayload,
} from "./close.ts";
import { type CloseInfo, CloseRecord } from "./close_record.ts";
import { CloseCode, MAX_CONTROL_PAYLOAD_BYTES, Opcode } from "./constants.ts";
import { WebSocketError } from "./errors.ts";
import { type Frame, type FrameHeader, frameHeaderSize, FrameParser } from "./frame.ts";
import { type Limits, resolveLimits } from "./limits.ts";
import { Liveness } from "./liveness.ts";
import { OutputBuffer } from "./output.ts";
import { RetainedBytes } from "./retained_bytes.ts";
import { decodeUtf8, Utf8Validator } from "./utf8.ts";

/** Where a connection is in its life (RFC 6455 §4, §7). */
export type ConnectionState = "open" | "closing" | "closed";

export type { CloseInfo } from "./close_record.ts";

/** Something the peer did, reported by {@linkcode Connection.receive}. */
export type ConnectionEvent =
  /** A complete message: a `string` for text, bytes for binary. */
  | { type: "message"; data: string | Uint8Array }
  /**
   * A compressed message (RSV1 set, RFC 7692), its fragments joined: decompress it and
   * pass the result to {@linkcode Connection.decompressed}. Frames received after it
   * wait until then. Only on a connection with `compression` on.
   */
  | { type: "compressed"; text: boolean; data: Uint8Array }
  /** A ping; the pong has already been queued. */
  | { type: "ping"; data: Uint8Array }
  /** A pong. */
  | { type: "pong"; data: Uint8Array }
  /** The connection is closed; the I/O layer sends what is left, then closes TCP. */
  | { type: "close"; info: CloseInfo };

/** Options of a {@linkcode Connection}. */
export interface ConnectionOptions {
  /**
   * `"server"` expects masked frames and sends unmasked ones; `"client"` the reverse.
   * @default "server"
   */
  role?: "server" | "client";
  /** Limits to override; see {@linkcode Limits}. */
  limits?: Partial<Limits>;
  /**
   * Whether a per-message compression extension was negotiated (RFC 7692): RSV1 may
   * then mark a data message as compressed, reported as a `compressed` event, and
   * {@linkcode Connection.sendCompressed} may be used. Otherwise any RSV bit fails the
   * connection with 1002.
   * @default false
   */
  compression?: boolean;
  /**
   * The current time in milliseconds, from the clock the caller will keep passing in.
   * @default 0
   */
  now?: number;
}

const NO_EVENTS: readonly ConnectionEvent[] = Object.freeze([]);
const EMPTY: Uint8Array = new Uint8Array(0);
/** RSV1 in {@linkcode FrameHeader.rsv}: the "Per-Message Compressed" bit (RFC 7692 §6). */
const RSV1 = 0x4;

/**
 * One WebSocket connection after the opening handshake.
 *
 * Feed it received bytes with {@linkcode Connection.receive}; send with
 * {@linkcode Connection.send}; write out {@linkcode Connection.takeOutput} after each
 * call; call {@linkcode Connection.tick} at {@linkcode Connection.nextDeadline}. A peer's
 * violation never throws: it queues a Close frame with the RFC's code and ends in a
 * `close` event (RFC 6455 §7.1.7). Misuse by the caller throws.
 *
 * A Close frame sent in answer to received bytes (the peer's Close, or a violation)
 * enters the output at the next {@linkcode Connection.takeOutput}: until then the
 * messages delivered with it may still be answered, so the replies do not depend on how
 * TCP cut the bytes into chunks (see {@linkcode Connection.canSend}).
 *
 * @example An echo loop
 * ```ts
 * import { Connection } from "./connection.ts";
 * const connection = new Connection({ now: performance.now() });
 * function onBytes(chunk: Uint8Array, write: (bytes: Uint8Array) => void) {
 *   for (const event of connection.receive(chunk, performance.now())) {
 *     if (event.type === "message") connection.send(event.data);
 *   }
 *   for (const bytes of connection.takeOutput()) write(bytes);
 * }
 * ```
 */
export class Connection {
  /** The limits in force. */
  readonly limits: Readonly<Limits>;
  readonly #parser: FrameParser<Connection>;
  readonly #output: OutputBuffer;
  readonly #liveness: Liveness;
  /** Made for the first text message that is checked piece by piece. */
  #utf8: Utf8Validator | undefined;
  readonly #compression: boolean;
  /** Whether our frames are masked (the client role). */
  readonly #masking: boolean;
  /** Events since the last take: made by the first one, so an idle connection has none. */
  #events: ConnectionEvent[] | undefined;
  /** The opcode of the message being received (Text or Binary), or 0 between messages. */
  #messageOpcode = 0;
  /** Whether the text message being received is checked piece by piece. */
  #validatingPieces = false;
  /** Whether the message being received has RSV1 set. */
  #messageCompressed = false;
  /** The kind of compressed message handed out for decompression, if one is. */
  #awaiting: "text" | "binary" | undefined;
  /** Chunks received while a compressed message is being decompressed (made on demand). */
  #pendingInput: Uint8Array[] | undefined;
  #pendingBytes = 0;
  /** Bytes of the buffers behind `#pendingInput`. */
  #pendingRetained = 0;
  /**
   * The payloads of the fragments of the message being received, so far: made for the
   * first fragmented message (an idle connection keeps less without it).
   */
  #message: RetainedBytes | undefined;
  /** Whether our Close frame was sent (or queued): the closing handshake has started. */
  #closeSent = false;
  /** The payload of a Close frame decided while receiving, written by takeOutput(). */
  // Why push-based, not pulled as wsproto's events(): pulling one frame at a time would
  // remove this field and #pendingInput (the parser would just stop at the peer's Close
  // or a compressed message until asked again), but receive()'s contract is public in
  // wsport/core, and SocketLink, CompressedSender, the fuzzer's model and about 300 core
  // tests are written against it; an iterator per chunk would also sit on the hot path,
  // unmeasured. The deferral costs this field, one branch in takeOutput() and one in
  // canSend. Worth redoing only together with a bench run (issue 14, item 3).
  #deferredClose: Uint8Array | undefined;
  /** How the connection ended, once it has: with `#closeSent`, its whole state. */
  readonly #record = new CloseRecord();

  /** A connection, open from the start: the handshake is the caller's. */
  constructor(options: ConnectionOptions = {}) {
    const role = options.role ?? "server";
    this.limits = resolveLimits(options.limits);
    this.#compression = options.compression ?? false;
    this.#masking = role === "client";
    this.#output = new OutputBuffer(this.#masking);
    this.#liveness = new Liveness(this.limits, options.now ?? 0);
    this.#parser = new FrameParser<Connection>({
      role,
      maxFrameBytes: this.limits.maxFrameBytes,
      onHeader: Connection.#onFrameHeader,
      onPayload: Connection.#onFramePayload,
      hookThis: this,
    });
  }

  // The parser's hooks, the same functions for every connection (the parser calls them
  // with its connection as `this`): an idle connection keeps no closures for them.
  static #onFrameHeader(this: Connection, header: FrameHeader): void {
    this.#checkHeader(header);
  }
  static #onFramePayload(
    this: Connection,
    piece: Uint8Array,
    offset: number,
    header: FrameHeader,
  ): void {
    this.#checkPayload(piece, offset, header);
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#record.ended ? "closed" : this.#closeSent ? "closing" : "open";
  }

  /** How the connection ended, once it is closed. */
  get closeInfo(): CloseInfo | undefined {
    return this.#record.info;
  }

  /** Bytes queued by this connection and not yet taken by {@linkcode takeOutput}. */
  get outputBytes(): number {
    const close = this.#deferredClose;
    return this.#output.byteLength +
      (close === undefined ? 0 : frameHeaderSize(close.length, this.#masking) + close.length);
  }

  /**
   * Whether {@linkcode Connection.send} may be called: the connection is open, or it
   * closed while receiving and its Close frame waits, until the next
   * {@linkcode Connection.takeOutput}, for replies to the messages delivered with it.
   */
  get canSend(): boolean {
    return this.#deferredClose !== undefined || (!this.#closeSent && !this.#record.ended);
  }

  /**
   * Bytes received but not yet delivered: a partial frame or a partial message, and
   * what arrived while a compressed message was being decompressed.
   */
  get bufferedInputBytes(): number {
    return this.#parser.bufferedBytes + (this.#message?.byteLength ?? 0) + this.#pendingBytes;
  }

  /**
   * Bytes of memory held for {@linkcode Connection.bufferedInputBytes}: the buffers its
   * bytes are kept in. Fragments and pieces of frames are kept as views only of buffers
   * they fill at least half of, else copied (see {@linkcode RetainedBytes}), so this is at
   * most about twice `bufferedInputBytes`, plus the chunk being parsed: a message in a
   * million one-byte fragments, or one byte per read among pongs, holds about what it
   * counts against `maxMessageBytes`, and empty fragments hold nothing.
   */
  get retainedInputBytes(): number {
    return this.#parser.retainedBytes + (this.#message?.retainedBytes ?? 0) +
      this.#pendingRetained;
  }

  /**
   * Processes bytes from the peer. The bytes are owned by the connection from now on: it
   * unmasks them in place and messages may be views of them. While a compressed message
   * waits for {@linkcode Connection.decompressed}, chunks are kept whole, unparsed: the
   * I/O layer should stop reading until then, as nothing else bounds them.
   *
   * @param chunk Bytes as they came off the wire.
   * @param now The current time in milliseconds.
   * @returns What happened, in order.
   */
  receive(chunk: Uint8Array, now: number): readonly ConnectionEvent[] {
    if (this.#record.ended) return NO_EVENTS;
    this.#liveness.received(now);
    if (this.#awaiting !== undefined) {
      (this.#pendingInput ??= []).push(chunk);
      this.#pendingBytes += chunk.length;
      this.#pendingRetained += chunk.buffer.byteLength;
      return NO_EVENTS;
    }
    this.#parser.push(chunk);
    this.#parse(now);
    return this.#takeEvents();
  }

  /**
   * Delivers the decompressed payload of the message the last `compressed` event
   * reported (checking that text is UTF-8, else 1007), then goes on with the frames
   * received after it.
   *
   * @param data The message, decompressed.
   * @param now The current time in milliseconds.
   * @returns What happened, in order: the message first.
   * @throws {Error} When no compressed message is waiting.
   */
  decompressed(data: Uint8Array, now: number): readonly ConnectionEvent[] {
    if (this.#record.ended) return NO_EVENTS;
    const kind = this.#awaiting;
    if (kind === undefined) {
      throw new Error("Cannot deliver a decompressed message: none is waiting");
    }
    this.#awaiting = undefined;
    try {
      this.#deliver(kind === "text" ? Opcode.Text : Opcode.Binary, data, now);
    } catch (error) {
      const failure = error as WebSocketError;
      this.#fail(failure.closeCode, failure.reason, true);
      return this.#takeEvents();
    }
    this.#parse(now);
    return this.#takeEvents();
  }

  /**
   * Reports that the peer closed TCP (or the socket failed). Without a completed close
   * handshake this ends the connection with 1006.
   */
  receiveEof(): readonly ConnectionEvent[] {
    this.#closed({ code: CloseCode.AbnormalClosure, reason: "", wasClean: false });
    return this.#takeEvents();
  }

  /**
   * Queues a message: text for a string, binary for bytes.
   * @throws {Error} When the connection is closing or closed.
   */
  send(data: string | Uint8Array): void {
    this.#assertOpen("send a message");
    if (typeof data === "string") this.#output.writeText(data);
    else this.#output.writeFrame(Opcode.Binary, data);
  }

  /**
   * Queues a compressed message: one frame with RSV1 set (RFC 7692 §6).
   *
   * @param payload The compressed payload, as `MessageCodec.compress` returns it.
   * @param text Whether the message is text (UTF-8 before compression).
   * @throws {Error} When no compression was negotiated, or the connection is closing or
   *   closed.
   */
  sendCompressed(payload: Uint8Array, text: boolean): void {
    if (!this.#compression) {
      throw new Error("Cannot send a compressed message: no compression was negotiated");
    }
    this.#assertOpen("send a message");
    this.#output.writeFrame(text ? Opcode.Text : Opcode.Binary, payload, true, RSV1);
  }

  /**
   * Queues a ping.
   * @throws {RangeError} When `data` exceeds 125 bytes.
   * @throws {Error} When the connection is closing or closed.
   */
  ping(data: Uint8Array = EMPTY): void {
    this.#assertOpen("send a ping");
    if (data.length > MAX_CONTROL_PAYLOAD_BYTES) {
      throw new RangeError(`Ping payload is ${data.length} bytes; at most 125 are allowed`);
    }
    this.#output.writeFrame(Opcode.Ping, data);
  }

  /**
   * Starts the closing handshake; a no-op when it has already started.
   *
   * @param code The close code; 1005 sends a Close frame with no code.
   * @param reason At most 123 UTF-8 bytes.
   * @param now The current time in milliseconds: the close timeout starts now.
   * @throws {RangeError} For a code that may not be sent or a reason that is too long.
   */
  close(code: number = CloseCode.NormalClosure, reason = "", now: number): void {
    if (code !== CloseCode.NoStatusReceived) checkCloseArguments(code, reason);
    else if (reason !== "") throw new RangeError("A close with no code cannot carry a reason");
    if (this.#closeSent || this.#record.ended) return;
    this.#sendClose({ code, reason });
    this.#liveness.closeStarted(now);
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a Close frame with `code` unless one
   * was sent (never for 1006, which is reported, not sent), and ends it at once, without
   * waiting for the peer's. A no-op once closed: the first failure wins.
   */
  fail(code: number, reason: string): readonly ConnectionEvent[] {
    this.#fail(code, reason);
    return this.#takeEvents();
  }

  /**
   * Hands over the bytes to write to the socket, in order, and forgets them.
   * @returns The chunks; empty when there is nothing to send.
   */
  takeOutput(): Uint8Array[] {
    if (this.#deferredClose !== undefined) {
      this.#output.writeFrame(Opcode.Close, this.#deferredClose);
      this.#deferredClose = undefined;
    }
    return this.#output.take();
  }

  /** The time at which {@linkcode Connection.tick} should next be called. */
  nextDeadline(): number {
    return this.#record.ended ? Infinity : this.#liveness.nextDeadline();
  }

  /** Acts on passed deadlines: sends a heartbeat ping, or closes on a timeout. */
  tick(now: number): readonly ConnectionEvent[] {
    if (this.#record.ended) return NO_EVENTS;
    const action = this.#liveness.due(now);
    if (action?.type === "ping") this.#output.writeFrame(Opcode.Ping, EMPTY);
    else if (action?.type === "close") this.close(action.code, action.reason, now);
    else if (action?.type === "fail") this.#fail(action.code, action.reason);
    return this.#takeEvents();
  }

  /** Parses and handles frames until input runs out, a compressed message waits, or the end. */
  #parse(now: number): void {
    const parser = this.#parser;
    try {
      while (!this.#record.ended && this.#awaiting === undefined) {
        const frame = parser.next();
        if (frame === undefined) {
          const chunk = this.#pendingInput?.shift();
          if (chunk === undefined) break;
          this.#pendingBytes -= chunk.length;
          this.#pendingRetained -= chunk.buffer.byteLength;
          parser.push(chunk);
        } else if (frame.opcode >= 0x8) {
          this.#handleControl(frame);
        } else {
          this.#handleData(frame, now);
        }
      }
    } catch (error) {
      if (error instanceof WebSocketError) this.#fail(error.closeCode, error.reason, true);
      else this.#fail(CloseCode.InternalError, "Internal error", true);
    }
  }

  #checkHeader(header: FrameHeader): void {
    const opcode = header.opcode;
    if (header.rsv !== 0) {
      if (header.rsv !== RSV1 || !this.#compression) {
        throw protocolError("Reserved bits set with no extension");
      }
      // RSV1 marks a whole message as compressed: only its first frame carries it.
      if (opcode >= 0x8) throw protocolError("RSV1 set on a control frame");
      if (opcode === Opcode.Continuation) throw protocolError("RSV1 set on a continuation frame");
    }
    if (opcode >= 0x8) return;
    if (opcode === Opcode.Continuation) {
      if (this.#messageOpcode === 0) throw protocolError("Continuation frame with no message");
    } else {
      if (this.#messageOpcode !== 0) {
        throw protocolError("New data frame inside a fragmented message");
      }
      this.#messageOpcode = opcode;
      this.#messageCompressed = header.rsv !== 0;
      this.#validatingPieces = opcode === Opcode.Text && !header.fin && header.rsv === 0;
    }
    if ((this.#message?.byteLength ?? 0) + header.length > this.limits.maxMessageBytes) {
      throw new WebSocketError(CloseCode.MessageTooBig, "Message too big");
    }
  }

  #checkPayload(piece: Uint8Array, offset: number, header: FrameHeader): void {
    if (header.opcode >= 0x8 || this.#messageOpcode !== Opcode.Text) return;
    // Compressed text is checked once decompressed.
    if (this.#messageCompressed) return;
    if (!this.#validatingPieces) {
      // A whole single-frame message is validated when decoded; a split one as it comes.
      if (offset === 0 && piece.length === header.length) return;
      this.#validatingPieces = true;
    }
    if (!(this.#utf8 ??= new Utf8Validator()).push(piece)) throw invalidText();
  }

  #handleData(frame: Frame, now: number): void {
    if (!frame.fin) {
      (this.#message ??= new RetainedBytes()).append(frame.payload);
      return;
    }
    // A message in one frame (or whose earlier fragments were empty) is the frame's payload.
    let bytes = frame.length === 0 ? EMPTY : frame.payload;
    const message = this.#message;
    if (message !== undefined && message.byteLength > 0) {
      message.append(bytes);
      bytes = message.take();
    }
    const opcode = this.#messageOpcode;
    const compressed = this.#messageCompressed;
    // No validator yet means no piece was pushed: nothing, which is valid UTF-8.
    const utf8 = this.#utf8;
    if (opcode === Opcode.Text && this.#validatingPieces && utf8 !== undefined && !utf8.end()) {
      throw invalidText();
    }
    this.#messageOpcode = 0;
    this.#messageCompressed = false;
    this.#validatingPieces = false;
    if (compressed) {
      this.#awaiting = opcode === Opcode.Text ? "text" : "binary";
      (this.#events ??= []).push({ type: "compressed", text: opcode === Opcode.Text, data: bytes });
    } else {
      this.#deliver(opcode, bytes, now);
    }
  }

  /** Reports a whole message, decoding text (1007 when it is not UTF-8). */
  #deliver(opcode: number, bytes: Uint8Array, now: number): void {
    let data: string | Uint8Array = bytes;
    if (opcode === Opcode.Text) {
      const text = decodeUtf8(bytes);
      if (text === undefined) throw invalidText();
      data = text;
    }
    this.#liveness.messageReceived(now);
    (this.#events ??= []).push({ type: "message", data });
  }

  #handleControl(frame: Frame): void {
    const payload = frame.payload;
    if (frame.opcode === Opcode.Ping) {
      if (!this.#closeSent) this.#output.writeFrame(Opcode.Pong, payload);
      (this.#events ??= []).push({ type: "ping", data: payload });
    } else if (frame.opcode === Opcode.Pong) {
      (this.#events ??= []).push({ type: "pong", data: payload });
    } else {
      const received = parseClosePayload(payload);
      if (!this.#closeSent) this.#sendClose(received, true);
      this.#closed({ ...received, wasClean: true });
    }
  }

  /** Queues a Close frame; `whileReceiving` defers it to the next takeOutput(). */
  #sendClose(status: CloseStatus, whileReceiving = false): void {
    this.#closeSent = true;
    const payload = buildClosePayload(status.code, status.reason);
    if (whileReceiving) this.#deferredClose = payload;
    else this.#output.writeFrame(Opcode.Close, payload);
  }

  /** Fails the connection: our Close frame with `code` unless one was sent, then the end. */
  #fail(code: number, reason: string, whileReceiving = false): void {
    if (this.#record.ended) return;
    if (!this.#closeSent && code !== CloseCode.AbnormalClosure) {
      this.#sendClose({ code, reason }, whileReceiving);
    }
    this.#closed({ code, reason, wasClean: false });
  }

  /** Ends the connection, once: the first end (or failure) wins. */
  #closed(ended: CloseInfo): void {
    const info = this.#record.end(ended);
    if (info === undefined) return;
    this.#message?.clear();
    this.#awaiting = undefined;
    this.#pendingInput = undefined;
    this.#pendingBytes = 0;
    this.#pendingRetained = 0;
    (this.#events ??= []).push({ type: "close", info });
  }

  #takeEvents(): readonly ConnectionEvent[] {
    const events = this.#events;
    if (events === undefined) return NO_EVENTS;
    this.#events = undefined;
    return events;
  }

  #assertOpen(action: string): void {
    if (!this.canSend) {
      throw new Error(`Cannot ${action}: the connection is ${this.state}`);
    }
  }
}

function protocolError(reason: string): WebSocketError {
  return new WebSocketError(CloseCode.ProtocolError, reason);
}

function invalidText(): WebSocketError {
  return new WebSocketError(CloseCode.InvalidPayload, "Invalid UTF-8 in text message");
}

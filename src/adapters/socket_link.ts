/**
 * A raw TCP socket driven by the core `Connection`: wsport's own framing, on any runtime
 * that provides `node:net`.
 * @module
 */

import type { Socket } from "node:net";
import { CloseCode } from "../core/constants.ts";
import { Connection, type ConnectionEvent } from "../core/connection.ts";
import { WebSocketError } from "../core/errors.ts";
import type { Limits } from "../core/limits.ts";
import type { MessageCodec } from "../core/message_codec.ts";
import { PER_ITEM_BYTES, retain } from "../core/retained_bytes.ts";
import type { Link } from "../site/link.ts";
import type { Session } from "../site/session.ts";
import { CompressedSender } from "./compressed_sender.ts";
import { tickIntervalFor, type TrackedConnection } from "./server.ts";
import type { Sweeper } from "./sweeper.ts";

/** Where a socket keeps its link, for the listeners every link shares. */
const LINK = Symbol("wsport.socketLink");

/** A socket taken over by a {@linkcode SocketLink}. */
type LinkedSocket = Socket & { [LINK]: SocketLink };

/** A connection's negotiated compression: its codec and the send threshold. */
export interface LinkCompression {
  codec: MessageCodec;
  /** Messages smaller than this many bytes are sent uncompressed. */
  threshold: number;
}

/**
 * One upgraded socket. Bytes go through the core; output produced while a chunk is
 * processed leaves in one write. Reading pauses while the send buffer is above
 * `sendPauseBytes` or the handler's queue is full. Once the core reports the connection
 * closed, the socket is ended, and destroyed if the peer has not closed its side within
 * the close timeout.
 *
 * The send buffer counts what the socket really holds for a peer that does not read:
 * output queued behind unsent bytes is copied out of the arena the core's frames share
 * (so a two-byte pong does not pin 64 KiB of it), a write that the socket could not send
 * at once is charged for the whole buffer it pins, and each queued write for its own
 * cost besides its bytes. Auto-replies (pongs, Close) count like writes: after each read
 * the send buffer is checked against `sendPauseBytes` and `maxSendBufferBytes`.
 *
 * With compression negotiated, reading pauses while a received message is decompressed,
 * and sends wait behind a compression in order (see {@linkcode CompressedSender}).
 */
export class SocketLink implements Link, TrackedConnection {
  session: Session | undefined;
  readonly #socket: Socket;
  readonly #connection: Connection;
  readonly #limits: Readonly<Limits>;
  readonly #sweeper: Sweeper;
  #receiving = false;
  #pausedForQueue = false;
  #pausedForSend = false;
  #decompressing = false;
  #ending = false;
  #endDeadline = Infinity;
  #socketClosed = false;
  /**
   * Memory the socket holds for unsent writes besides their bytes (`writableLength`):
   * buffers pinned by views and the cost of each queued write (`PER_ITEM_BYTES`; measured
   * on a stalled `node:net` socket: 230 to 690 bytes of RSS per queued write of two
   * bytes). Zero once it has sent all.
   */
  #held = 0;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  readonly #codec: MessageCodec | undefined;
  readonly #sender: CompressedSender | undefined;
  /** What {@linkcode SocketLink.sendFrame} gives, made on first use. */
  #frameSender: ((frame: Uint8Array) => void) | undefined;

  /**
   * Takes the socket over: its deadlines are checked on `sweeper` until it closes.
   * @param compression The negotiated compression, if any.
   */
  constructor(
    socket: Socket,
    limits: Readonly<Limits>,
    sweeper: Sweeper,
    compression?: LinkCompression,
  ) {
    this.#socket = socket;
    this.#limits = limits;
    this.#sweeper = sweeper;
    this.#connection = new Connection({
      limits,
      now: performance.now(),
      compression: compression !== undefined,
    });
    this.#codec = compression?.codec;
    this.#sender = compression && new CompressedSender(
      this.#connection,
      compression.codec,
      compression.threshold,
      () => {
        this.#flush();
        this.session?.writable();
      },
      () => {
        if (this.#connection.state !== "closed") this.terminate(CloseCode.InternalError, "");
      },
    );
    socket.setNoDelay(true);
    (socket as LinkedSocket)[LINK] = this;
    socket.on("data", SocketLink.#onSocketData);
    socket.on("end", SocketLink.#onSocketEnd);
    socket.on("error", SocketLink.#onSocketEnd);
    socket.on("close", SocketLink.#onSocketClose);
    socket.on("drain", SocketLink.#onSocketDrain);
    sweeper.add(this, tickIntervalFor(limits));
  }

  // The socket's listeners, the same functions for every link (a socket calls them with
  // itself as `this`): an idle connection keeps no closures of its own for them.
  static #onSocketData(this: LinkedSocket, chunk: Uint8Array): void {
    this[LINK].#onData(chunk);
  }
  static #onSocketEnd(this: LinkedSocket): void {
    this[LINK].#onEnd();
  }
  static #onSocketClose(this: LinkedSocket): void {
    this[LINK].#onClose();
  }
  static #onSocketDrain(this: LinkedSocket): void {
    this[LINK].#onDrain();
  }

  /**
   * The peer's address, read from the socket when first asked (the socket keeps it):
   * an idle connection that is never asked keeps no copy, and its handshake makes no
   * `getpeername` call. It is read before the link itself ends or drops the socket, so
   * that `connectionLost` and the close's lifecycle event still have it; only a socket
   * the peer reset before anyone asked has none.
   */
  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  /** Reads the peer's address while the socket still has it (see `remoteAddress`). */
  #keepAddress(): void {
    void this.#socket.remoteAddress;
  }

  /** Settles when the socket has closed; made on demand, as few ever ask. */
  get closed(): Promise<void> {
    return this.#closed ??= this.#socketClosed
      ? Promise.resolve()
      : new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /**
   * Connects the session and processes bytes that came with the handshake. A connection
   * that closed while its handler was being made (a send buffer overflow from the
   * constructor) is reported to it at once.
   */
  attach(session: Session, head: Uint8Array): void {
    this.session = session;
    const info = this.#connection.closeInfo;
    if (info !== undefined) {
      session.closed(info);
      return;
    }
    if (head.length > 0) this.#onData(head);
    this.#resumeReading();
  }

  /**
   * Whether messages can still be sent: the core's state, except that a close waiting
   * behind a compression counts as started. Right after the peer's Close, replies to the
   * messages that came with it still count as open (see `Connection.canSend`).
   */
  get isOpen(): boolean {
    return this.#connection.canSend && !(this.#sender?.closing ?? false);
  }

  send(data: string | Uint8Array): void {
    // Replies to the messages that came with the peer's Close (or a violation) still go
    // out before our Close frame; later writes are dropped, as RFC 6455 §5.5.1 requires.
    if (!this.#connection.canSend) return;
    if (this.#sender === undefined) this.#connection.send(data);
    else this.#sender.send(data);
    if (!this.#receiving) this.#flush();
  }

  /**
   * Sends an encoded frame shared by many connections; absent with compression on, so a
   * published message is compressed for each connection like any other. Made for the
   * first published message: an idle connection keeps no closure for it.
   */
  get sendFrame(): ((frame: Uint8Array) => void) | undefined {
    if (this.#sender !== undefined) return undefined;
    return this.#frameSender ??= (frame) => this.#sendFrame(frame);
  }

  #sendFrame(frame: Uint8Array): void {
    if (this.#connection.state !== "open") return;
    // What the core has queued goes first; the shared frame itself is never copied.
    const queued = this.#connection.takeOutput();
    this.#write(queued.length === 0 ? [frame] : [...queued, frame]);
    this.#flush();
  }

  ping(data: Uint8Array): boolean {
    if (this.#connection.state !== "open") return true;
    this.#connection.ping(data);
    if (!this.#receiving) this.#flush();
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#sender === undefined) this.#connection.close(code, reason, performance.now());
    else this.#sender.close(code, reason);
    if (!this.#receiving) this.#flush();
  }

  terminate(code: number, reason: string): void {
    this.#keepAddress();
    this.#dispatch(this.#connection.fail(code, reason));
    this.#write(this.#connection.takeOutput());
    this.#socket.destroy();
  }

  get bufferedAmount(): number {
    return this.#connection.outputBytes + this.#unsent() + (this.#sender?.queuedBytes ?? 0);
  }

  /** What the socket holds for bytes written and not yet sent. */
  #unsent(): number {
    const unsent = this.#socket.writableLength;
    if (unsent === 0) this.#held = 0;
    return unsent + this.#held;
  }

  pause(): void {
    this.#pausedForQueue = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#pausedForQueue = false;
    this.#resumeReading();
  }

  tick(now: number): void {
    if (now >= this.#endDeadline) {
      this.#keepAddress();
      this.#socket.destroy();
      return;
    }
    // Many small queued writes can pass sendPauseBytes with too few bytes for the socket
    // to announce a drain: their sending is seen here.
    if (this.#pausedForSend && this.#unsent() <= this.#limits.sendPauseBytes) this.#onDrain();
    const wasOpen = this.isOpen;
    this.#dispatch(this.#connection.tick(now));
    // The idle timeout starts a close with no event: the session must hear of it.
    if (wasOpen && !this.isOpen) this.session?.closing();
    this.#flush();
  }

  #onData(chunk: Uint8Array): void {
    // A plain view: messages must be Uint8Arrays, not the runtime's Buffer subclass.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#receiving = true;
    try {
      this.#dispatch(this.#connection.receive(bytes, performance.now()));
    } catch (error) {
      this.#faulted(error);
      return;
    } finally {
      this.#receiving = false;
    }
    this.#flush();
  }

  /**
   * Ends this connection, and only it, after an error thrown inside wsport while it
   * handled the peer's bytes: reported to the site's `onError`, then failed with 1011.
   */
  #faulted(error: unknown): void {
    this.#keepAddress();
    try {
      this.session?.faulted(error);
    } catch {
      // Failing already: whatever else breaks, the socket is dropped below.
    } finally {
      this.#socket.destroy();
    }
  }

  #onEnd(): void {
    if (!this.#socketClosed) this.#keepAddress();
    this.#dispatch(this.#connection.receiveEof());
    if (!this.#socket.destroyed) this.#end();
  }

  #onClose(): void {
    this.#sweeper.delete(this);
    this.#socketClosed = true;
    this.#onEnd();
    this.#resolveClosed?.();
  }

  #onDrain(): void {
    if (this.#pausedForSend) {
      this.#pausedForSend = false;
      this.#resumeReading();
    }
    this.session?.writable();
  }

  /** Reads again unless something else still holds reading paused. */
  #resumeReading(): void {
    if (!this.#pausedForQueue && !this.#pausedForSend && !this.#decompressing) {
      this.#socket.resume();
    }
  }

  #dispatch(events: readonly ConnectionEvent[]): void {
    const session = this.session;
    if (session === undefined) return;
    for (const event of events) {
      if (event.type === "message") session.receive(event.data);
      else if (event.type === "compressed") this.#decompress(event.data);
      else if (event.type === "pong") session.pong(event.data);
      else if (event.type === "close") {
        this.#codec?.close();
        session.closed(event.info);
      }
    }
  }

  /**
   * Decompresses a received message with reading paused (the core keeps later frames
   * until then), then delivers it and what waited behind it. Too big a result (1009) or
   * corrupt data (1007) fails the connection.
   */
  #decompress(data: Uint8Array): void {
    this.#decompressing = true;
    this.#socket.pause();
    this.#codec!.decompress(data, this.#limits.maxMessageBytes).then(
      (message) =>
        this.#decompressed(() => this.#connection.decompressed(message, performance.now())),
      (error) => {
        const failure = error instanceof WebSocketError
          ? error
          : new WebSocketError(CloseCode.InternalError, "Internal error");
        this.#decompressed(() => this.#connection.fail(failure.closeCode, failure.reason));
      },
    );
  }

  #decompressed(events: () => readonly ConnectionEvent[]): void {
    this.#decompressing = false;
    this.#receiving = true;
    try {
      this.#dispatch(events());
    } finally {
      this.#receiving = false;
    }
    this.#flush();
    this.#resumeReading();
  }

  #flush(): void {
    this.#write(this.#connection.takeOutput());
    if (this.#connection.state === "closed") {
      this.#end();
      return;
    }
    // Replies the core queued by itself (pongs) count like writes.
    this.session?.checkSendBuffer();
    if (
      !this.#pausedForSend && !this.#socket.destroyed &&
      this.#unsent() > this.#limits.sendPauseBytes
    ) {
      this.#pausedForSend = true;
      this.#socket.pause();
    }
  }

  /**
   * Writes chunks in order. Behind unsent bytes the socket keeps what it is given until
   * the peer reads, so a chunk that is a small part of a larger buffer (the core's shared
   * arena, or a read a message is a view of) is copied first; a write the socket could not
   * send at once is charged for the buffers it pins (see {@linkcode SocketLink.bufferedAmount}).
   */
  #write(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (chunks.length === 0 || socket.destroyed) return;
    const queued = socket.writableLength > 0;
    if (queued) {
      for (let i = 0; i < chunks.length; i++) chunks[i] = retain(chunks[i]);
    }
    if (chunks.length === 1) {
      socket.write(chunks[0]);
    } else {
      // One system call for the batch on every runtime's node:net (strace, December
      // 2026): a writev on Node and Deno, one send of a joined copy on Bun; without the
      // cork, Bun and Deno send each chunk on its own.
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
    if (socket.writableLength === 0) {
      this.#held = 0;
      return;
    }
    this.#held += chunks.length * PER_ITEM_BYTES + (queued ? 0 : pinnedBeyond(chunks));
  }

  /** Sends FIN; the socket is destroyed at the close timeout if the peer lingers. */
  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#keepAddress();
    const timeout = this.#limits.closeTimeoutMs;
    if (timeout > 0) this.#endDeadline = performance.now() + timeout;
    this.#socket.end();
  }
}

/**
 * Bytes of the buffers `chunks` are views of, beyond the chunks themselves: what keeping
 * them keeps alive besides their bytes. A buffer several chunks share counts once.
 */
function pinnedBeyond(chunks: readonly Uint8Array[]): number {
  let pinned = 0;
  const seen = new Set<ArrayBufferLike>();
  for (const chunk of chunks) {
    pinned -= chunk.byteLength;
    if (seen.has(chunk.buffer)) continue;
    seen.add(chunk.buffer);
    pinned += chunk.buffer.byteLength;
  }
  return pinned;
}

/**
 * Outgoing messages of a connection that negotiated compression: compressed off the
 * main thread, framed in the order they were sent.
 * @module
 */

import type { Connection } from "../core/connection.ts";
import type { MessageCodec } from "../core/message_codec.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A message or a close waiting behind a compression. */
type Queued =
  | { kind: "message"; data: string | Uint8Array; size: number }
  | { kind: "compress"; bytes: Uint8Array; text: boolean }
  | { kind: "close"; code: number; reason: string };

/**
 * Sends a connection's messages in order when some are compressed asynchronously.
 *
 * A message of at least `threshold` bytes is compressed by the codec, then framed with
 * RSV1; a smaller one is framed as it is. While a compression runs, later messages and
 * a close wait behind it, so the peer gets them in the order they were sent and nothing
 * after the Close frame (RFC 6455 §5.5.1). Frames queued at once are left in the
 * connection's output for the caller to write; frames queued later are announced with
 * `onOutput`.
 */
export class CompressedSender {
  readonly #connection: Connection;
  readonly #codec: MessageCodec;
  readonly #threshold: number;
  readonly #onOutput: () => void;
  readonly #onError: (error: unknown) => void;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #compressing = false;
  #closing = false;

  /**
   * @param connection The connection, negotiated with `compression` on.
   * @param codec Its codec.
   * @param threshold Messages smaller than this many bytes are not compressed.
   * @param onOutput Called when frames were queued in the connection after a compression.
   * @param onError Called if the codec fails; the queue is dropped.
   */
  constructor(
    connection: Connection,
    codec: MessageCodec,
    threshold: number,
    onOutput: () => void,
    onError: (error: unknown) => void,
  ) {
    this.#connection = connection;
    this.#codec = codec;
    this.#threshold = threshold;
    this.#onOutput = onOutput;
    this.#onError = onError;
  }

  /** Bytes of messages waiting to be compressed or framed. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Whether a close was asked for (it may still wait behind a compression). */
  get closing(): boolean {
    return this.#closing;
  }

  /** Sends a message: text for a string, binary for bytes. */
  send(data: string | Uint8Array): void {
    this.#queue.push(this.#prepare(data));
    this.#queuedBytes += queuedSize(this.#queue.at(-1)!);
    this.#drain();
  }

  /** Starts the closing handshake once the messages sent before are framed. */
  close(code: number, reason: string): void {
    this.#closing = true;
    this.#queue.push({ kind: "close", code, reason });
    this.#drain();
  }

  #prepare(data: string | Uint8Array): Queued {
    const threshold = this.#threshold;
    if (typeof data !== "string") {
      return data.length >= threshold
        ? { kind: "compress", bytes: data, text: false }
        : { kind: "message", data, size: data.length };
    }
    // At most 3 UTF-8 bytes per UTF-16 unit: short strings need no encoding to judge.
    if (data.length * 3 < threshold) return { kind: "message", data, size: data.length };
    const bytes = encoder.encode(data);
    return bytes.length >= threshold
      ? { kind: "compress", bytes, text: true }
      : { kind: "message", data, size: bytes.length };
  }

  /** Frames what can be framed now, up to the next compression. */
  #drain(): void {
    const connection = this.#connection;
    while (!this.#compressing && this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      this.#queuedBytes -= queuedSize(item);
      // Once closing, messages are dropped (the peer's Close may have been answered).
      if (item.kind === "close") {
        connection.close(item.code, item.reason, performance.now());
      } else if (!connection.canSend) {
        continue;
      } else if (item.kind === "message") {
        connection.send(item.data);
      } else if (connection.state !== "open") {
        // A reply to a message that came with the peer's Close: our Close goes out before
        // a compression could end, so it is sent uncompressed (RFC 7692 §6 allows that).
        connection.send(item.text ? decoder.decode(item.bytes) : item.bytes);
      } else {
        this.#compress(item.bytes, item.text);
      }
    }
  }

  #compress(bytes: Uint8Array, text: boolean): void {
    this.#compressing = true;
    this.#queuedBytes += bytes.length;
    this.#codec.compress(bytes).then(
      (payload) => {
        this.#compressing = false;
        this.#queuedBytes -= bytes.length;
        if (this.#connection.state === "open") this.#connection.sendCompressed(payload, text);
        this.#drain();
        this.#onOutput();
      },
      (error) => {
        this.#compressing = false;
        this.#queue = [];
        this.#queuedBytes = 0;
        this.#onError(error);
      },
    );
  }
}

function queuedSize(item: Queued): number {
  return item.kind === "message" ? item.size : item.kind === "compress" ? item.bytes.length : 0;
}

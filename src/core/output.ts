/**
 * The bytes a connection has to send: frames encoded straight into an arena that all
 * connections share.
 * @module
 */

import { Opcode } from "./constants.ts";
import { frameHeaderSize, writeFrameHeader } from "./frame.ts";
import { applyMask } from "./mask.ts";

/** Frames up to this size are copied into the arena; larger payloads are sent as they are. */
const COPY_THRESHOLD = 16 * 1024;
const ARENA_BYTES = 64 * 1024;
const RANDOM_POOL_BYTES = 4096;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * The arena every OutputBuffer writes into: frames of all connections go back to back, so
 * a connection holds no buffer of its own and a new one costs no allocation. Bytes below
 * `end` belong to some buffer's frames and are never written again.
 */
const shared = { arena: EMPTY, end: 0 };

/**
 * Encodes outgoing frames and hands them over in as few chunks as possible.
 *
 * Small frames are written back to back into an arena shared by every buffer, so many
 * messages sent in one turn leave as one chunk and an idle connection holds no buffer.
 * Arena bytes handed out by {@linkcode OutputBuffer.take} are never written again, so the
 * I/O layer may keep them until the socket has sent them; but a kept chunk keeps its
 * whole 64 KiB arena alive, shared or not. An I/O layer whose socket queues a chunk behind
 * unsent bytes should copy it first (`retain()`) or count the arena against that
 * connection's send buffer, as the raw-socket link does. Large unmasked payloads are not
 * copied: the caller must not change them after sending.
 *
 * @example
 * ```ts
 * import { OutputBuffer } from "./output.ts";
 * const output = new OutputBuffer(false);
 * output.writeText("hi");
 * output.writeFrame(0x2, new Uint8Array([1, 2, 3]));
 * output.take(); // [81 02 68 69 82 03 01 02 03]: one chunk
 * ```
 */
export class OutputBuffer {
  readonly #masking: boolean;
  /** This buffer's current run of bytes: `#arena[#start, #end)`, not yet sealed. */
  #arena = EMPTY;
  #start = 0;
  #end = 0;
  /** Sealed chunks not yet taken: made by the first one, so an idle connection has none. */
  #chunks: Uint8Array[] | undefined;
  #byteLength = 0;
  #random = EMPTY;
  #randomOffset = 0;

  /** @param masking Whether frames are masked with fresh random keys (the client role). */
  constructor(masking: boolean) {
    this.#masking = masking;
  }

  /** Bytes written and not yet taken. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** Encodes one frame. */
  writeFrame(opcode: number, payload: Uint8Array, fin = true, rsv = 0): void {
    const length = payload.length;
    const mask = this.#masking ? this.#nextMask() : undefined;
    const headerSize = frameHeaderSize(length, mask !== undefined);
    if (headerSize + length <= COPY_THRESHOLD) {
      const at = this.#reserve(headerSize + length);
      const arena = this.#arena;
      const offset = at + writeFrameHeader(arena, at, opcode, length, { fin, rsv, mask });
      arena.set(payload, offset);
      if (mask) applyMask(arena.subarray(offset, offset + length), mask);
      this.#end = shared.end = offset + length;
    } else {
      const at = this.#reserve(headerSize);
      this.#end = shared.end = at +
        writeFrameHeader(this.#arena, at, opcode, length, { fin, rsv, mask });
      this.#seal();
      let body = payload;
      if (mask) {
        body = payload.slice();
        applyMask(body, mask);
      }
      (this.#chunks ??= []).push(body);
    }
    this.#byteLength += headerSize + length;
  }

  /** Encodes a text message as one frame, encoding the string straight into the arena. */
  writeText(text: string): void {
    const most = text.length * 3;
    const masked = this.#masking;
    const reserved = frameHeaderSize(most, masked);
    if (reserved + most > COPY_THRESHOLD) {
      this.writeFrame(Opcode.Text, encoder.encode(text));
      return;
    }
    const at = this.#reserve(reserved + most);
    const arena = this.#arena;
    const { written } = encoder.encodeInto(
      text,
      arena.subarray(at + reserved, at + reserved + most),
    );
    const headerSize = frameHeaderSize(written, masked);
    if (headerSize < reserved) {
      arena.copyWithin(at + headerSize, at + reserved, at + reserved + written);
    }
    const mask = masked ? this.#nextMask() : undefined;
    const offset = at + writeFrameHeader(arena, at, Opcode.Text, written, { mask });
    if (mask) applyMask(arena.subarray(offset, offset + written), mask);
    this.#end = shared.end = offset + written;
    this.#byteLength += headerSize + written;
  }

  /**
   * Hands over everything written so far, oldest first, and forgets it.
   * @returns The chunks to send; empty when there is nothing.
   */
  take(): Uint8Array[] {
    this.#seal();
    const chunks = this.#chunks;
    if (chunks === undefined) return [];
    this.#chunks = undefined;
    this.#byteLength = 0;
    return chunks;
  }

  /**
   * Makes room for `size` contiguous bytes in the shared arena; returns where they start.
   * The run goes on where this buffer's last write ended unless another buffer wrote
   * since or the arena is full: then the run so far is sealed and a new one starts.
   */
  #reserve(size: number): number {
    if (shared.end + size > shared.arena.length) {
      shared.arena = new Uint8Array(Math.max(ARENA_BYTES, size));
      shared.end = 0;
    }
    if (this.#arena !== shared.arena || this.#end !== shared.end) {
      this.#seal();
      this.#arena = shared.arena;
      this.#start = this.#end = shared.end;
    }
    return this.#end;
  }

  /** Moves the arena's unsent bytes into the chunk list. */
  #seal(): void {
    if (this.#end > this.#start) {
      (this.#chunks ??= []).push(this.#arena.subarray(this.#start, this.#end));
      this.#start = this.#end;
    }
  }

  #nextMask(): Uint8Array {
    if (this.#randomOffset + 4 > this.#random.length) {
      this.#random = crypto.getRandomValues(new Uint8Array(RANDOM_POOL_BYTES));
      this.#randomOffset = 0;
    }
    const mask = this.#random.subarray(this.#randomOffset, this.#randomOffset + 4);
    this.#randomOffset += 4;
    return mask;
  }
}

/**
 * Frames (RFC 6455 §5.2): an incremental parser and a builder.
 * @module
 */

import { CloseCode, MAX_CONTROL_PAYLOAD_BYTES } from "./constants.ts";
import { WebSocketError } from "./errors.ts";
import { applyMask, applyMaskWord, rotateKeyWord } from "./mask.ts";
import { RetainedBytes } from "./retained_bytes.ts";

/** A frame header: everything but the payload. */
export interface FrameHeader {
  /** Whether this is the final fragment of a message. */
  fin: boolean;
  /** The RSV1-3 bits as a number: RSV1 is 4, RSV2 is 2, RSV3 is 1. */
  rsv: number;
  /** The opcode (0-15). */
  opcode: number;
  /** Whether the payload was masked. */
  masked: boolean;
  /** The payload length in bytes. */
  length: number;
}

/** A whole frame, with its payload unmasked. */
export interface Frame extends FrameHeader {
  /**
   * The payload, unmasked: a view into the chunk it arrived in when it arrived whole,
   * else its pieces joined.
   */
  payload: Uint8Array;
}

/** Options of a {@linkcode FrameParser}. */
export interface FrameParserOptions<This = undefined> {
  /**
   * `"server"` requires masked frames (clients must mask), `"client"` requires unmasked
   * ones (RFC 6455 §5.1).
   */
  role: "server" | "client";
  /** Largest payload accepted; a longer one fails with 1009 before it is buffered. */
  maxFrameBytes: number;
  /**
   * Called with each header once it is parsed, before any of the payload is buffered;
   * throw a {@linkcode WebSocketError} to refuse the frame.
   */
  onHeader?: (this: This, header: FrameHeader) => void;
  /**
   * Called with each unmasked piece of a payload as it arrives (a frame that arrives
   * whole is one piece); `offset` is where the piece starts in the payload.
   */
  onPayload?: (this: This, piece: Uint8Array, offset: number, header: FrameHeader) => void;
  /**
   * What the hooks are called with as `this`: a connection passes itself, so that one
   * pair of functions serves every parser and none keeps closures of its own.
   */
  hookThis?: This;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Whether `opcode` is one RFC 6455 defines. */
function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/**
 * Parses frames from bytes that arrive in chunks of any size.
 *
 * Payloads that lie whole inside one chunk are returned as views of that chunk, unmasked
 * in place: the parser takes ownership of the chunks it is given. The pieces of a payload
 * that spans chunks are kept in a {@linkcode RetainedBytes} as they arrive, so a frame
 * in progress holds memory in proportion to the bytes received, never the size its
 * header announced, and no whole read for a byte of it. A chunk is let go once parsed.
 * A violation throws a {@linkcode WebSocketError} carrying the close code (1002, or 1009
 * for size).
 *
 * @example Parsing RFC 6455 §5.7's masked "Hello"
 * ```ts
 * import { FrameParser } from "./frame.ts";
 * const parser = new FrameParser({ role: "server", maxFrameBytes: 1 << 20 });
 * parser.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * const frame = parser.next(); // { fin: true, opcode: 1, payload: "Hello" as bytes, ... }
 * ```
 */
export class FrameParser<This = undefined> {
  readonly #requireMask: boolean;
  readonly #maxFrameBytes: number;
  readonly #onHeader?: (this: This, header: FrameHeader) => void;
  readonly #onPayload?: (
    this: This,
    piece: Uint8Array,
    offset: number,
    header: FrameHeader,
  ) => void;
  readonly #hookThis: This | undefined;

  #chunk: Uint8Array = EMPTY;
  #position = 0;
  /**
   * Header bytes carried over from a chunk that ended inside a header: made when one
   * does, dropped once the header is complete, so an idle connection holds no buffer.
   */
  #headerBytes: Uint8Array | undefined;
  #headerFilled = 0;
  /** The frame whose payload is being collected, if any. */
  #header: FrameHeader | undefined;
  /** The size of that frame's header, counted as buffered until the frame is returned. */
  #headerSize = 0;
  /**
   * The current frame's masking key as a key word (see `mask.ts`): a number, so that a
   * connection keeps no 4-byte array with a buffer of its own.
   */
  #key = 0;
  /**
   * The pieces of a payload that spans chunks, received so far: made for the first such
   * payload, so that a connection that never receives one does not pay for it.
   */
  #pieces: RetainedBytes | undefined;
  #received = 0;

  /** A parser for one connection's frames, in the given role. */
  constructor(options: FrameParserOptions<This>) {
    this.#requireMask = options.role === "server";
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#onHeader = options.onHeader;
    this.#onPayload = options.onPayload;
    this.#hookThis = options.hookThis;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#headerSize + this.#received + this.#chunk.length -
      this.#position;
  }

  /**
   * Bytes of memory held for {@linkcode FrameParser.bufferedBytes}: the chunk being
   * parsed, if any is left of it, and the pieces of a payload that spans chunks.
   */
  get retainedBytes(): number {
    const chunk = this.#chunk;
    return (this.#pieces?.retainedBytes ?? 0) +
      (this.#position < chunk.length ? chunk.buffer.byteLength : 0);
  }

  /**
   * Adds received bytes. Call {@linkcode FrameParser.next} until it returns `undefined`
   * before pushing more.
   */
  push(chunk: Uint8Array): void {
    if (this.#position < this.#chunk.length) {
      throw new Error("Cannot push bytes: the previous chunk has not been fully parsed");
    }
    this.#chunk = chunk;
    this.#position = 0;
  }

  /**
   * Returns the next complete frame, or `undefined` when more bytes are needed.
   * @throws {WebSocketError} When the bytes violate RFC 6455.
   */
  next(): Frame | undefined {
    const frame = this.#header === undefined && !this.#readHeader()
      ? undefined
      : this.#readPayload();
    // Let go of a parsed chunk: an idle connection pins no read.
    if (this.#position === this.#chunk.length) {
      this.#chunk = EMPTY;
      this.#position = 0;
    }
    return frame;
  }

  /** Parses a header from the current chunk (and carried-over bytes); false if short. */
  #readHeader(): boolean {
    const chunk = this.#chunk;
    let bytes = chunk;
    let at = this.#position;
    const available = chunk.length - at;
    // Nothing left (the parser asked again after its last frame): nothing to carry over.
    if (available === 0) return false;
    if (this.#headerFilled > 0 || available < 2 || available < headerSize(chunk, at)) {
      // Gather the header into the carry-over buffer, taking only the bytes it needs.
      const carried = this.#headerBytes ??= new Uint8Array(14);
      while (this.#headerFilled < 2 && at < chunk.length) {
        carried[this.#headerFilled++] = chunk[at++];
      }
      if (this.#headerFilled < 2) {
        this.#position = at;
        return false;
      }
      const size = headerSize(carried, 0);
      while (this.#headerFilled < size && at < chunk.length) {
        carried[this.#headerFilled++] = chunk[at++];
      }
      if (this.#headerFilled < size) {
        this.#position = at;
        return false;
      }
      this.#position = at;
      this.#headerFilled = 0;
      // Made again for the next split header (rare: a read that ends inside a header), so
      // that an idle connection keeps no array of its own.
      this.#headerBytes = undefined;
      bytes = carried;
      at = 0;
    }
    const first = bytes[at];
    const second = bytes[at + 1];
    const fin = (first & 0x80) !== 0;
    const rsv = (first >> 4) & 0x7;
    const opcode = first & 0x0f;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = (bytes[offset] << 8) | bytes[offset + 1];
      offset += 2;
      if (length < 126) throw protocolError("Frame length not in its minimal form");
    } else if (length === 127) {
      const high = (bytes[offset] << 24 | bytes[offset + 1] << 16 | bytes[offset + 2] << 8 |
        bytes[offset + 3]) >>> 0;
      const low = (bytes[offset + 4] << 24 | bytes[offset + 5] << 16 | bytes[offset + 6] << 8 |
        bytes[offset + 7]) >>> 0;
      offset += 8;
      if (high >= 0x80000000) throw protocolError("Frame length has its most significant bit set");
      if (high > 0x1fffff) {
        throw new WebSocketError(CloseCode.MessageTooBig, "Frame too big");
      }
      length = high * 0x100000000 + low;
      if (length < 65536) throw protocolError("Frame length not in its minimal form");
    }
    if (!isKnownOpcode(opcode)) throw protocolError(`Reserved opcode ${opcode}`);
    if (masked !== this.#requireMask) {
      throw protocolError(
        masked ? "Server frames must not be masked" : "Client frames must be masked",
      );
    }
    if (opcode >= 0x8) {
      if (!fin) throw protocolError("Fragmented control frame");
      if (length > MAX_CONTROL_PAYLOAD_BYTES) throw protocolError("Control frame too long");
    }
    if (masked) {
      this.#key = bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16 |
        bytes[offset + 3] << 24;
      offset += 4;
    }
    if (bytes === chunk) this.#position = offset;
    const header: FrameHeader = { fin, rsv, opcode, masked, length };
    // The caller's checks come first: its "Message too big" is the better reason when a
    // single frame is over both limits.
    this.#onHeader?.call(this.#hookThis as This, header);
    if (length > this.#maxFrameBytes) {
      throw new WebSocketError(CloseCode.MessageTooBig, "Frame too big");
    }
    this.#header = header;
    this.#headerSize = offset - at;
    this.#received = 0;
    return true;
  }

  /** Collects payload bytes of the current frame; returns the frame once complete. */
  #readPayload(): Frame | undefined {
    const header = this.#header!;
    const chunk = this.#chunk;
    const start = this.#position;
    const take = Math.min(header.length - this.#received, chunk.length - start);
    let piece = EMPTY;
    if (take > 0 || header.length === 0) {
      piece = chunk.subarray(start, start + take);
      this.#position = start + take;
      if (header.masked) applyMaskWord(piece, rotateKeyWord(this.#key, this.#received));
      this.#onPayload?.call(this.#hookThis as This, piece, this.#received, header);
    }
    this.#received += take;
    if (this.#received < header.length) {
      const pieces = this.#pieces ??= new RetainedBytes();
      if (pieces.byteLength === 0) pieces.expect(header.length);
      pieces.append(piece);
      return undefined;
    }
    let payload = piece;
    const pieces = this.#pieces;
    if (pieces !== undefined && pieces.byteLength > 0) {
      pieces.append(piece);
      payload = pieces.take();
    }
    this.#header = undefined;
    this.#headerSize = 0;
    this.#received = 0;
    return {
      fin: header.fin,
      rsv: header.rsv,
      opcode: header.opcode,
      masked: header.masked,
      length: header.length,
      payload,
    };
  }
}

/** The size of the header starting at `at`, from its first two bytes. */
function headerSize(bytes: Uint8Array, at: number): number {
  const length = bytes[at + 1] & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + ((bytes[at + 1] & 0x80) ? 4 : 0);
}

function protocolError(reason: string): WebSocketError {
  return new WebSocketError(CloseCode.ProtocolError, reason);
}

/**
 * Joins byte arrays into one.
 * @param total Their summed length, when the caller already knows it.
 */
export function concat(parts: readonly Uint8Array[], total = -1): Uint8Array {
  if (parts.length === 1) return parts[0];
  if (total < 0) {
    total = 0;
    for (const part of parts) total += part.length;
  }
  const result = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** Options for {@linkcode buildFrame} and {@linkcode writeFrameHeader}. */
export interface BuildFrameOptions {
  /**
   * Whether this is the final fragment.
   * @default true
   */
  fin?: boolean;
  /**
   * The RSV1-3 bits as a number (RSV1 is 4).
   * @default 0
   */
  rsv?: number;
  /** A 4-byte masking key; frames sent by clients must be masked. */
  mask?: Uint8Array;
}

/** The header size of a frame with a payload of `length` bytes. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset`.
 * @returns The header's size in bytes.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  length: number,
  options: BuildFrameOptions = {},
): number {
  const { fin = true, rsv = 0, mask } = options;
  const start = offset;
  target[offset++] = (fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) {
    target[offset++] = maskBit | length;
  } else if (length < 65536) {
    target[offset++] = maskBit | 126;
    target[offset++] = length >> 8;
    target[offset++] = length & 0xff;
  } else {
    target[offset++] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[offset++] = high >>> 24;
    target[offset++] = (high >>> 16) & 0xff;
    target[offset++] = (high >>> 8) & 0xff;
    target[offset++] = high & 0xff;
    target[offset++] = low >>> 24;
    target[offset++] = (low >>> 16) & 0xff;
    target[offset++] = (low >>> 8) & 0xff;
    target[offset++] = low & 0xff;
  }
  if (mask) {
    target.set(mask.subarray(0, 4), offset);
    offset += 4;
  }
  return offset - start;
}

/**
 * Builds one frame as a single byte array. The payload is copied (and masked in the copy
 * when a mask is given), never changed.
 *
 * @example RFC 6455 §5.7's unmasked "Hello"
 * ```ts
 * import { buildFrame } from "./frame.ts";
 * buildFrame(0x1, new TextEncoder().encode("Hello"));
 * // 81 05 48 65 6c 6c 6f
 * ```
 */
export function buildFrame(
  opcode: number,
  payload: Uint8Array,
  options: BuildFrameOptions = {},
): Uint8Array {
  const frame = new Uint8Array(
    frameHeaderSize(payload.length, options.mask !== undefined) +
      payload.length,
  );
  const offset = writeFrameHeader(frame, 0, opcode, payload.length, options);
  frame.set(payload, offset);
  if (options.mask) applyMask(frame.subarray(offset), options.mask);
  return frame;
}

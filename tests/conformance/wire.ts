/**
 * WebSocket frames written and read by hand for the conformance suite and the fuzz tests:
 * an encoder, an incremental decoder and masking, kept independent of wsport's own
 * `frame.ts` and `mask.ts`, so a bug there cannot hide behind the same bug here.
 * @module
 */

/** Opcodes by name, as RFC 6455 §5.2 numbers them. */
export const OP = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** What to put in one frame; every field but `opcode` has a plain default. */
export interface FrameSpec {
  opcode: number;
  /** @default empty */
  payload?: Uint8Array | string;
  /** @default true */
  fin?: boolean;
  /** RSV1-3 as a number, RSV1 = 4. @default 0 */
  rsv?: number;
  /**
   * The masking key, or `false` for an unmasked frame.
   * @default a fixed key, 0x37 0xfa 0x21 0x3d (RFC 6455 §5.7)
   */
  mask?: Uint8Array | false;
  /**
   * Claims this payload length in the header instead of the real one (only the header
   * changes): for frames that lie about their size.
   */
  claimedLength?: number;
}

/** A frame as read off the wire, its payload unmasked. */
export interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

const DEFAULT_KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Bytes from a list of numbers (and nested lists), for hand-written sequences. */
export const bytes = (...values: (number | number[] | Uint8Array)[]): Uint8Array =>
  new Uint8Array(values.flatMap((value) => typeof value === "number" ? [value] : [...value]));

/** XORs `data` with a 4-byte key, one byte at a time, into a new array. */
export function xorMask(data: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i % 4];
  return out;
}

/** Encodes one frame. */
export function encodeFrame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === "string"
    ? utf8(spec.payload)
    : spec.payload ?? new Uint8Array(0);
  const key = spec.mask === undefined ? DEFAULT_KEY : spec.mask;
  const length = spec.claimedLength ?? payload.length;
  const head: number[] = [
    ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode,
  ];
  const maskBit = key === false ? 0 : 0x80;
  if (length <= 125) {
    head.push(maskBit | length);
  } else if (length <= 0xffff) {
    head.push(maskBit | 126, length >> 8, length & 0xff);
  } else {
    head.push(maskBit | 127);
    // Eight bytes, most significant first; `length` may exceed 2^32, so divide.
    let rest = length;
    const eight: number[] = [];
    for (let i = 0; i < 8; i++) {
      eight.unshift(rest % 256);
      rest = Math.floor(rest / 256);
    }
    head.push(...eight);
  }
  if (key !== false) head.push(...key);
  const body = key === false ? payload : xorMask(payload, key);
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head);
  frame.set(body, head.length);
  return frame;
}

/** Joins byte arrays. */
export function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A Close frame payload: the code (when given) in network order, then the reason. */
export function closePayload(code?: number, reason: Uint8Array | string = ""): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  return join([bytes(code >> 8, code & 0xff), typeof reason === "string" ? utf8(reason) : reason]);
}

/** The code of a Close payload, or `undefined` when it carries none. */
export function closeCodeOf(payload: Uint8Array): number | undefined {
  return payload.length < 2 ? undefined : payload[0] * 256 + payload[1];
}

/**
 * Reads frames from bytes that arrive in pieces. It checks nothing but the framing
 * itself: what a frame means is for the caller to judge.
 */
export class FrameDecoder {
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Bytes held that do not make a whole frame yet. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Adds bytes and returns every frame now complete, in order. */
  push(chunk: Uint8Array): WireFrame[] {
    this.#append(chunk);
    const frames: WireFrame[] = [];
    const buffer = this.#buffer;
    const end = this.#end;
    let at = this.#start;
    while (end - at >= 2) {
      const first = buffer[at];
      const second = buffer[at + 1];
      let length = second & 0x7f;
      let offset = at + 2;
      if (length === 126) {
        if (end < offset + 2) break;
        length = buffer[offset] * 256 + buffer[offset + 1];
        offset += 2;
      } else if (length === 127) {
        if (end < offset + 8) break;
        length = 0;
        for (let i = 0; i < 8; i++) length = length * 256 + buffer[offset + i];
        offset += 8;
      }
      const masked = (second & 0x80) !== 0;
      const keyAt = offset;
      if (masked) offset += 4;
      if (end < offset + length) break;
      let payload: Uint8Array = buffer.slice(offset, offset + length);
      if (masked) payload = xorMask(payload, buffer.subarray(keyAt, keyAt + 4));
      frames.push({
        fin: (first & 0x80) !== 0,
        rsv: (first >> 4) & 0x7,
        opcode: first & 0x0f,
        masked,
        payload,
      });
      at = offset + length;
    }
    this.#start = at;
    return frames;
  }

  /** Appends bytes, moving what is held to the front or into a buffer twice as large. */
  #append(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buffer.length) {
      const size = Math.max(this.#buffer.length, (held + chunk.length) * 2, 4096);
      if (size === this.#buffer.length) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const larger = new Uint8Array(size);
        larger.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = larger;
      }
      this.#start = 0;
      this.#end = held;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

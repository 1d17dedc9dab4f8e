/**
 * Bytes kept past the chunk they arrived in, at a cost proportional to their count: a
 * kept view never pins a buffer more than twice its size.
 * @module
 */

/** Pieces at least this long that fill at least half of their buffer are kept as views. */
const MIN_VIEW_BYTES = 1024;
/** A copy buffer starts this small and doubles as pieces are added... */
const MIN_COPY_BYTES = 64;
/** ...up to this size; a full one is kept and the next piece starts another. */
const MAX_COPY_BYTES = 64 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * What a runtime holds for each item kept in a queue besides its bytes: the array or
 * string object, its buffer's bookkeeping and the queue's slot. Measured for small byte
 * arrays: about 150 (Bun) to 630 (Deno) bytes of RSS each; for short strings 100 to 160.
 * Queues that count bytes charge this per item, so that a flood of empty or tiny items
 * meets the same byte limits as large ones.
 */
export const PER_ITEM_BYTES = 512;

/**
 * Returns `bytes` if it fills at least half of its buffer, else a copy: what is kept
 * then pins at most twice what it counts, whatever it was a view of.
 *
 * @example A small message cut from a large read is copied
 * ```ts
 * import { retain } from "./retained_bytes.ts";
 * const read = new Uint8Array(65536);
 * retain(read.subarray(0, 10)).buffer.byteLength; // 10
 * retain(read).buffer === read.buffer; // true
 * ```
 */
export function retain(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength * 2 >= bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * Collects the pieces of a payload that arrives over several chunks (a frame's, or a
 * message's fragments), holding memory proportional to the bytes added.
 *
 * A piece of at least 1 KiB that fills at least half of its buffer (a socket read that is
 * mostly payload) is kept as it is, without a copy. Smaller pieces, and pieces of mostly
 * other bytes (a one-byte fragment among pongs), are copied into buffers of up to 64 KiB
 * that grow by doubling. So {@linkcode RetainedBytes.retainedBytes} stays at most twice
 * {@linkcode RetainedBytes.byteLength} plus 64 bytes, however the bytes were cut, and
 * empty pieces cost nothing. When the total is known in advance (a frame's length, see
 * {@linkcode RetainedBytes.expect}), the bytes move into one buffer of that size once
 * half of them have arrived, so a large payload over many reads is copied once.
 *
 * @example Joining many small pieces
 * ```ts
 * import { RetainedBytes } from "./retained_bytes.ts";
 * const bytes = new RetainedBytes();
 * for (let i = 0; i < 1000; i++) bytes.append(new Uint8Array([i & 0xff]));
 * bytes.retainedBytes; // 1024: one buffer, not 1,000 views
 * bytes.take().length; // 1000
 * ```
 */
export class RetainedBytes {
  /** Kept views and full copy buffers, in order; the copy buffer being filled is apart. */
  #parts: Uint8Array[] = [];
  #copy: Uint8Array = EMPTY;
  #copyLength = 0;
  #byteLength = 0;
  /** Bytes of the buffers behind `#parts` (each view counted by its whole buffer). */
  #partsRetained = 0;
  /** The total announced by expect(), or 0. */
  #expected = 0;
  /** The buffer of `#expected` bytes everything goes into once half has arrived. */
  #whole: Uint8Array | undefined;

  /** Bytes added since the last {@linkcode RetainedBytes.take}. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** Bytes of memory held for them: the buffers behind kept views, and the copies. */
  get retainedBytes(): number {
    return this.#partsRetained + this.#copy.length + (this.#whole?.length ?? 0);
  }

  /**
   * Announces how many bytes will be added in all before the next
   * {@linkcode RetainedBytes.take}: once half of them are in, the rest go straight into a
   * buffer of that size. Adding more than announced is a bug of the caller.
   */
  expect(total: number): void {
    this.#expected = total;
  }

  /** Adds a piece; the piece may be kept as a view, so do not change it after. */
  append(piece: Uint8Array): void {
    const length = piece.byteLength;
    if (length === 0) return;
    const whole = this.#whole;
    if (whole !== undefined) {
      whole.set(piece, this.#byteLength);
      this.#byteLength += length;
      return;
    }
    if (this.#expected > 0 && (this.#byteLength + length) * 2 >= this.#expected) {
      const start = this.#byteLength;
      const joined = this.#join(this.#expected);
      joined.set(piece, start);
      this.clear();
      this.#whole = joined;
      this.#byteLength = start + length;
      return;
    }
    this.#byteLength += length;
    if (length >= MIN_VIEW_BYTES && length * 2 >= piece.buffer.byteLength) {
      this.#sealCopy();
      this.#parts.push(piece);
      this.#partsRetained += piece.buffer.byteLength;
      return;
    }
    let from = 0;
    while (from < length) {
      if (this.#copyLength === this.#copy.length) this.#growCopy(length - from);
      const take = Math.min(length - from, this.#copy.length - this.#copyLength);
      this.#copy.set(
        from === 0 && take === length ? piece : piece.subarray(from, from + take),
        this.#copyLength,
      );
      this.#copyLength += take;
      from += take;
    }
  }

  /**
   * Hands over the bytes added, joined, and starts empty. A single kept piece is
   * returned as it is; otherwise the result is a new array of exactly `byteLength`.
   */
  take(): Uint8Array {
    const total = this.#byteLength;
    const whole = this.#whole;
    let result: Uint8Array;
    if (whole !== undefined) {
      result = total === whole.length ? whole : whole.slice(0, total);
    } else if (total === 0) {
      result = EMPTY;
    } else if (this.#parts.length === 0 && this.#copyLength === this.#copy.length) {
      result = this.#copy;
    } else if (this.#parts.length === 1 && this.#copyLength === 0) {
      result = this.#parts[0];
    } else {
      result = this.#join(total);
    }
    this.clear();
    return result;
  }

  /** Forgets everything added, and the total announced. */
  clear(): void {
    this.#parts = [];
    this.#copy = EMPTY;
    this.#copyLength = 0;
    this.#byteLength = 0;
    this.#partsRetained = 0;
    this.#expected = 0;
    this.#whole = undefined;
  }

  /** The bytes added so far, copied to the start of a new array of `size` bytes. */
  #join(size: number): Uint8Array {
    const result = new Uint8Array(size);
    let offset = 0;
    for (const part of this.#parts) {
      result.set(part, offset);
      offset += part.length;
    }
    result.set(this.#copy.subarray(0, this.#copyLength), offset);
    return result;
  }

  /** Makes room in the copy buffer for at least one more byte, `wanted` if it can. */
  #growCopy(wanted: number): void {
    const copy = this.#copy;
    if (copy.length >= MAX_COPY_BYTES) {
      this.#sealCopy();
      this.#copy = new Uint8Array(Math.min(MAX_COPY_BYTES, Math.max(MIN_COPY_BYTES, wanted)));
      return;
    }
    const size = Math.min(
      MAX_COPY_BYTES,
      Math.max(MIN_COPY_BYTES, copy.length * 2, this.#copyLength + wanted),
    );
    const grown = new Uint8Array(size);
    grown.set(copy.subarray(0, this.#copyLength));
    this.#copy = grown;
  }

  /** Moves the copy buffer's bytes into the parts, trimmed to what is used. */
  #sealCopy(): void {
    const used = this.#copyLength;
    if (used === 0) return;
    const copy = this.#copy;
    const kept = used === copy.length ? copy : copy.slice(0, used);
    this.#parts.push(kept);
    this.#partsRetained += kept.buffer.byteLength;
    this.#copy = EMPTY;
    this.#copyLength = 0;
  }
}

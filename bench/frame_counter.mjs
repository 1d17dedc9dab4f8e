/**
 * Counts the frames in an echo stream without decoding them: the load generator reads
 * each header (RFC 6455 §5.2) and skips the payload.
 * @module
 */

/**
 * Counts complete data frames in a byte stream that arrives in chunks of any size.
 *
 * Only the header is read; payloads are skipped unread. Data frames whose opcode or
 * length differ from the expected ones, and any Close frame, count as errors, so a
 * server that echoes the wrong thing cannot look fast. When messages must arrive
 * compressed, a first frame without RSV1 (RFC 7692 §6) is an error too.
 *
 * @example
 * ```js
 * const counter = new FrameCounter(0x2, 3);
 * counter.push(Uint8Array.of(0x82, 0x03, 1, 2)); // 0: the payload is not complete
 * counter.push(Uint8Array.of(3));                 // 1
 * ```
 *
 * @example Compressed text of any length
 * ```js
 * const counter = new FrameCounter(0x1, -1, true);
 * counter.push(Uint8Array.of(0xc1, 0x01, 0)); // 1
 * counter.push(Uint8Array.of(0x81, 0x01, 0)); // 1, and counter.errors is 1: not compressed
 * ```
 */
export class FrameCounter {
  /** Complete data frames seen. */
  frames = 0;
  /** Payload bytes of those frames. */
  bytes = 0;
  /** Frames that were not the expected echo: wrong opcode, length or RSV1, or a Close. */
  errors = 0;
  /** Whether the server sent a Close frame. */
  closed = false;
  #opcode;
  #length;
  #compressed;
  /** Payload bytes of the current frame still to skip. */
  #remaining = 0;
  /** Whether the current frame is a data frame (it counts once skipped). */
  #counting = false;
  #frameBytes = 0;
  #header = new Uint8Array(14);
  #headerFilled = 0;

  /**
   * @param {number} opcode The expected opcode of echoed frames, or 0 for any data frame.
   * @param {number} length The expected payload length, or -1 for any.
   * @param {boolean} [compressed] Whether every message must be compressed: RSV1 set on
   *   each data frame but continuations.
   */
  constructor(opcode, length, compressed = false) {
    this.#opcode = opcode;
    this.#length = length;
    this.#compressed = compressed;
  }

  /**
   * Reads the next chunk of the stream.
   * @param {Uint8Array} chunk
   * @returns {number} How many data frames this chunk completed.
   */
  push(chunk) {
    const end = chunk.length;
    let at = 0;
    let done = 0;
    while (at < end) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, end - at);
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0 && this.#counting) done += this.#complete();
        continue;
      }
      let bytes = chunk;
      let start = at;
      if (this.#headerFilled > 0 || end - at < 2 || end - at < headerSize(chunk, at)) {
        const header = this.#header;
        while (this.#headerFilled < 2 && at < end) header[this.#headerFilled++] = chunk[at++];
        if (this.#headerFilled < 2) break;
        const size = headerSize(header, 0);
        while (this.#headerFilled < size && at < end) header[this.#headerFilled++] = chunk[at++];
        if (this.#headerFilled < size) break;
        this.#headerFilled = 0;
        bytes = header;
        start = 0;
      } else {
        at += headerSize(chunk, at);
      }
      const opcode = bytes[start] & 0x0f;
      let length = bytes[start + 1] & 0x7f;
      if (length === 126) length = (bytes[start + 2] << 8) | bytes[start + 3];
      else if (length === 127) {
        const high = (bytes[start + 2] << 24 | bytes[start + 3] << 16 | bytes[start + 4] << 8 |
          bytes[start + 5]) >>> 0;
        const low = (bytes[start + 6] << 24 | bytes[start + 7] << 16 | bytes[start + 8] << 8 |
          bytes[start + 9]) >>> 0;
        length = high * 0x100000000 + low;
      }
      if (opcode === 0x8) {
        this.closed = true;
        this.errors++;
      }
      this.#counting = opcode < 0x8;
      if (
        this.#counting && ((this.#opcode !== 0 && opcode !== this.#opcode) ||
          (this.#length >= 0 && length !== this.#length) ||
          (this.#compressed && opcode !== 0 && (bytes[start] & 0x40) === 0))
      ) {
        this.errors++;
      }
      this.#frameBytes = length;
      this.#remaining = length;
      if (length === 0 && this.#counting) done += this.#complete();
    }
    return done;
  }

  #complete() {
    this.frames++;
    this.bytes += this.#frameBytes;
    return 1;
  }
}

/** The header size of the frame starting at `at`, from its first two bytes. */
function headerSize(bytes, at) {
  const length = bytes[at + 1] & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + ((bytes[at + 1] & 0x80) ? 4 : 0);
}

/**
 * The bench's own client-side frame encoder (RFC 6455 §5.2): masked frames built once,
 * before a run, so the load generator only copies bytes. Deliberately independent of
 * wsport's `buildFrame`, so a bug there cannot cancel out here.
 * @module
 */

/** The masking key every generated frame uses: fixed, since the bytes are built once. */
const KEY = Uint8Array.of(0x6d, 0x3a, 0x91, 0x2c);

/**
 * Builds one masked, final frame.
 *
 * @param {number} opcode 0x1 text, 0x2 binary, 0x8 close.
 * @param {Uint8Array} payload The unmasked payload (copied, never changed).
 * @returns {Uint8Array} Header, key and masked payload in one array.
 *
 * @example A masked "Hello"
 * ```js
 * maskedFrame(0x1, new TextEncoder().encode("Hello")); // 81 85 6d 3a 91 2c ...
 * ```
 */
export function maskedFrame(opcode, payload) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = new Uint8Array(header + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(KEY, header - 4);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i] ^ KEY[i & 3];
  return frame;
}

/**
 * `count` copies of a frame back to back, so `k` messages go out as one write of the
 * first `k * frame.length` bytes.
 *
 * @param {Uint8Array} frame One encoded frame.
 * @param {number} count How many copies.
 * @returns {Uint8Array}
 */
export function repeatFrame(frame, count) {
  const bytes = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) bytes.set(frame, i * frame.length);
  return bytes;
}

/**
 * A masked Close frame with code 1000 and no reason.
 * @returns {Uint8Array}
 */
export function closeFrame() {
  return maskedFrame(0x8, Uint8Array.of(0x03, 0xe8));
}

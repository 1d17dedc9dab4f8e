/**
 * Incremental UTF-8 validation for text messages that arrive in pieces.
 * @module
 */

// Björn Höhrmann's UTF-8 DFA (http://bjoern.hoehrmann.de/utf-8/decoder/dfa/):
// byte classes, then transitions in steps of 12. State 0 accepts, 12 rejects. It
// rejects at the first byte after which no completion could be valid (overlongs,
// surrogates, code points above U+10FFFF), which makes validation fail-fast.
const CLASSES = new Uint8Array([
  ...Array(128).fill(0),
  ...Array(16).fill(1),
  ...Array(16).fill(9),
  ...Array(32).fill(7),
  8,
  8,
  ...Array(30).fill(2),
  10,
  ...Array(12).fill(3),
  4,
  3,
  3,
  11,
  6,
  6,
  6,
  5,
  ...Array(11).fill(8),
]);

// deno-fmt-ignore
const TRANSITIONS = new Uint8Array([
  0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72,
  12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
  12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12,
  12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
  12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12,
  12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
  12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
  12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
  12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
]);

const ACCEPT = 0;
const REJECT = 12;

/**
 * Validates UTF-8 fed in any number of pieces, failing at the first impossible byte.
 *
 * @example Validating a text message that arrives in two fragments
 * ```ts
 * import { Utf8Validator } from "./utf8.ts";
 * const validator = new Utf8Validator();
 * validator.push(new Uint8Array([0xce, 0xba, 0xe1])); // true: a valid prefix
 * validator.push(new Uint8Array([0xbd, 0xb9]));       // true
 * validator.end();                                     // true: complete
 * ```
 */
export class Utf8Validator {
  #state = ACCEPT;

  /**
   * Feeds the next bytes.
   * @returns `false` as soon as the bytes seen so far cannot begin valid UTF-8.
   */
  push(bytes: Uint8Array): boolean {
    let state = this.#state;
    if (state === REJECT) return false;
    const length = bytes.length;
    let i = 0;
    while (i < length) {
      if (state === ACCEPT) {
        // ASCII fast path.
        while (i < length && bytes[i] < 0x80) i++;
        if (i === length) break;
      }
      state = TRANSITIONS[state + CLASSES[bytes[i++]]];
      if (state === REJECT) break;
    }
    this.#state = state;
    return state !== REJECT;
  }

  /**
   * Ends the input.
   * @returns `true` when everything pushed was complete, valid UTF-8; then the validator
   *   is ready for a new input.
   */
  end(): boolean {
    const valid = this.#state === ACCEPT;
    this.#state = ACCEPT;
    return valid;
  }
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes complete UTF-8, or returns `undefined` when it is not valid.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // "hi"
 * decodeUtf8(new Uint8Array([0xc0, 0x80])); // undefined: an overlong NUL
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Up to this many UTF-16 units, a regular expression tells ASCII faster than `encodeInto`. */
const SHORT_TEXT_UNITS = 64;
/** Any character beyond ASCII. */
const NON_ASCII = /[^\0-\x7f]/;
/** What one `encodeInto` call writes at most, in {@linkcode utf8ByteLength}. */
const CHUNK_BYTES = 4096;
const encoder = new TextEncoder();
/** Where {@linkcode utf8ByteLength} encodes ASCII to count it: made on first use. */
let chunk: Uint8Array | undefined;

/**
 * Counts the bytes `text` takes in UTF-8, as `TextEncoder` writes it (a lone surrogate
 * becomes the 3-byte U+FFFD), without keeping an encoding.
 *
 * Cheap enough for every message: a short text is its length when a regular expression
 * finds nothing beyond ASCII in it; a long one is encoded into a small scratch buffer
 * while it is ASCII (the runtime's encoder does that many times faster than a loop
 * counts). Anything else is counted unit by unit, from the first chunk not ASCII.
 *
 * @example
 * ```ts
 * import { utf8ByteLength } from "./utf8.ts";
 * utf8ByteLength("héllo"); // 6
 * utf8ByteLength("😀"); // 4, for two UTF-16 code units
 * ```
 */
export function utf8ByteLength(text: string): number {
  if (text.length <= SHORT_TEXT_UNITS) {
    return NON_ASCII.test(text) ? countFrom(text, 0, 0) : text.length;
  }
  const buffer = chunk ??= new Uint8Array(CHUNK_BYTES);
  let at = 0;
  while (at < text.length) {
    const { read, written } = encoder.encodeInto(at === 0 ? text : text.slice(at), buffer);
    // Each character beyond ASCII takes more bytes than UTF-16 units.
    if (written !== read) break;
    at += read!;
  }
  return countFrom(text, at, at);
}

/** Counts the UTF-8 bytes of `text` from the unit `from` on, after `bytes` before it. */
function countFrom(text: string, from: number, bytes: number): number {
  const length = text.length;
  bytes += length - from;
  for (let i = from; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    // Three bytes for one unit; a surrogate pair is two units and four bytes.
    bytes += 2;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return bytes;
}

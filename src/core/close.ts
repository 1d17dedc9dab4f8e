/**
 * Close frame payloads (RFC 6455 §5.5.1, §7.4): codes, reasons, parsing and building.
 * @module
 */

import { CloseCode, MAX_CLOSE_REASON_BYTES } from "./constants.ts";
import { WebSocketError } from "./errors.ts";
import { decodeUtf8 } from "./utf8.ts";

/** A close code and reason, as sent or received. */
export interface CloseStatus {
  /** The close code; 1005 when a Close frame carried none. */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
}

/**
 * Whether `code` may appear in a Close frame on the wire (RFC 6455 §7.4).
 *
 * Valid: 1000-1003, 1007-1014 (registered), 3000-4999 (libraries and applications).
 * Never on the wire: 1004 (reserved), 1005, 1006, 1015, and the rest of 0-2999.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

const encoder = new TextEncoder();

/**
 * Cuts a reason to at most 123 UTF-8 bytes without splitting a character.
 *
 * @example
 * ```ts
 * import { truncateReason } from "./close.ts";
 * truncateReason("é".repeat(100)).length; // 61: 122 bytes
 * ```
 */
export function truncateReason(reason: string): string {
  let bytes = 0;
  let end = 0;
  for (const char of reason) {
    const point = char.codePointAt(0)!;
    const size = point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    bytes += size;
    end += char.length;
  }
  return reason.slice(0, end);
}

/**
 * Parses a received Close frame's payload.
 *
 * @returns The code and reason; code 1005 for an empty payload.
 * @throws {WebSocketError} 1002 for a 1-byte payload or a code not valid on the wire,
 *   1007 for a reason that is not valid UTF-8.
 */
export function parseClosePayload(payload: Uint8Array): CloseStatus {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: "" };
  if (payload.length === 1) {
    throw new WebSocketError(CloseCode.ProtocolError, "Close frame with a 1-byte payload");
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) {
    throw new WebSocketError(CloseCode.ProtocolError, `Invalid close code ${code}`);
  }
  const reason = decodeUtf8(payload.subarray(2));
  if (reason === undefined) {
    throw new WebSocketError(CloseCode.InvalidPayload, "Close reason is not valid UTF-8");
  }
  return { code, reason };
}

/**
 * Checks a close code and reason given by our caller.
 *
 * @throws {RangeError} When the code may not be sent or the reason exceeds 123 bytes.
 * @throws {TypeError} When the code is not an integer or the reason not a string.
 */
export function checkCloseArguments(code: number, reason: string): void {
  if (!Number.isInteger(code)) throw new TypeError(`Close code must be an integer, got ${code}`);
  if (!isValidCloseCode(code)) {
    throw new RangeError(
      `Invalid close code ${code}: use 1000-1003, 1007-1014 or 3000-4999`,
    );
  }
  if (typeof reason !== "string") throw new TypeError("Close reason must be a string");
  const length = encoder.encode(reason).length;
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `Close reason is ${length} bytes; at most ${MAX_CLOSE_REASON_BYTES} are allowed`,
    );
  }
}

/**
 * Builds a Close frame payload: the code in network byte order, then the UTF-8 reason,
 * cut to 123 bytes. Code 1005 builds an empty payload, as it stands for "no code".
 */
export function buildClosePayload(code: number, reason: string): Uint8Array {
  if (code === CloseCode.NoStatusReceived) return new Uint8Array(0);
  const text = encoder.encode(truncateReason(reason));
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

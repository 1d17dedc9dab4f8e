/**
 * Parsing a single-range `Range` request header (RFC 9110 §14.1.2, §14.2).
 * @module
 */

/** A byte range within a file, both ends inclusive as in `Content-Range`. */
export interface ByteRange {
  /** Offset of the first byte. */
  readonly start: number;
  /** Offset of the last byte, less than the file size. */
  readonly end: number;
}

/**
 * Reads a `Range` header against a file of `size` bytes.
 *
 * Understands one `bytes=` range: `first-last`, `first-` (to the end) and `-suffix` (the
 * last bytes); a `last` beyond the file is cut to its end. Returns `null` when the header
 * is to be ignored and the whole file sent: another unit, several ranges, or a syntax
 * error (RFC 9110 §14.2 allows ignoring these). Returns `"unsatisfiable"` (answer 416)
 * when the range starts at or after the end of the file, or asks for an empty suffix.
 *
 * @param header The `Range` header value.
 * @param size The file size in bytes.
 * @returns The range to send, `"unsatisfiable"`, or `null` for the whole file.
 *
 * @example Resolve the three forms against a 100-byte file
 * ```ts
 * import { parseRange } from "./range.ts";
 * parseRange("bytes=0-9", 100); // { start: 0, end: 9 }
 * parseRange("bytes=-10", 100); // { start: 90, end: 99 }
 * parseRange("bytes=5-", 100); // { start: 5, end: 99 }
 * parseRange("bytes=100-", 100); // "unsatisfiable"
 * parseRange("bytes=0-1,5-6", 100); // null
 * ```
 */
export function parseRange(header: string, size: number): ByteRange | "unsatisfiable" | null {
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (match === null) return null;
  const [, first, last] = match;
  if (first === "") {
    if (last === "") return null;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Number(last);
  if (end < start && last !== "") return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

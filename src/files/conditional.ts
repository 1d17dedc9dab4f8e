/**
 * Validators of a file and the conditional request headers that test them (RFC 9110 §8.8,
 * §13): `If-None-Match`, `If-Modified-Since` and `If-Range`.
 * @module
 */

/** The validators sent with a file: its `ETag` and `Last-Modified` header values. */
export interface Validators {
  /** A weak entity tag built from the size and modification time. */
  readonly etag: string;
  /** The modification time as an HTTP-date, to the second. */
  readonly lastModified: string;
}

/** An entity tag inside a list; group 1 is its opaque part. */
const ENTITY_TAG = /(?:W\/)?"([^"]*)"/g;

/**
 * Builds the validators of a file from its size and modification time.
 *
 * The entity tag is weak (`W/"…"`): a file rewritten within the same millisecond at the
 * same size would keep it.
 *
 * @param size The file size in bytes.
 * @param mtimeMs The modification time, in milliseconds since the epoch.
 * @returns The `ETag` and `Last-Modified` values.
 *
 * @example Build the validators of a 1 KiB file
 * ```ts
 * import { validatorsOf } from "./conditional.ts";
 * validatorsOf(1024, 0); // { etag: 'W/"sg-0"', lastModified: "Thu, 01 Jan 1970 00:00:00 GMT" }
 * ```
 */
export function validatorsOf(size: number, mtimeMs: number): Validators {
  return {
    etag: `W/"${size.toString(36)}-${Math.trunc(mtimeMs).toString(36)}"`,
    lastModified: new Date(mtimeMs).toUTCString(),
  };
}

/**
 * Tells whether a GET or HEAD request is answered with 304 Not Modified.
 *
 * `If-None-Match` is compared weakly against the entity tag, and `*` matches any file.
 * `If-Modified-Since` is only consulted when `If-None-Match` is absent (RFC 9110 §13.2.2),
 * and an invalid date in it is ignored.
 *
 * @param headers The request headers.
 * @param validators The validators of the file.
 * @returns `true` when the client's copy is current.
 */
export function isNotModified(headers: Headers, validators: Validators): boolean {
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() === "*") return true;
    const opaque = opaqueTag(validators.etag);
    return [...ifNoneMatch.matchAll(ENTITY_TAG)].some((match) => match[1] === opaque);
  }
  const since = Date.parse(headers.get("if-modified-since") ?? "");
  return !Number.isNaN(since) && Date.parse(validators.lastModified) <= since;
}

/**
 * Tells whether a `Range` may be honoured under the request's `If-Range`, if any.
 *
 * `If-Range` needs a strong match (RFC 9110 §13.1.5), so an entity tag in it never matches
 * our weak one; a date matches when it equals `Last-Modified`. Without `If-Range`, any
 * range may be honoured; when this returns `false`, the whole file is sent.
 *
 * @param headers The request headers.
 * @param validators The validators of the file.
 * @returns `true` when the range applies to the current file.
 */
export function isRangeFresh(headers: Headers, validators: Validators): boolean {
  const ifRange = headers.get("if-range")?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith("W/")) return false;
  return Date.parse(ifRange) === Date.parse(validators.lastModified);
}

/** The opaque part of an entity tag, quotes and weakness prefix removed. */
function opaqueTag(etag: string): string {
  return etag.slice(etag.indexOf('"') + 1, -1);
}

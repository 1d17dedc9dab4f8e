/**
 * Turning a URL path into file-name segments that cannot climb out of the served root.
 * @module
 */

/**
 * What {@link safePath} makes of a URL path: the decoded segments to look up under the
 * root, or the status to refuse the request with.
 */
export type SafePath =
  | {
    readonly ok: true;
    /** Decoded file names, root first; empty for the root itself. */
    readonly segments: readonly string[];
    /** Whether the path ended with `/` (a directory was asked for). */
    readonly trailingSlash: boolean;
  }
  | {
    readonly ok: false;
    /** 400 for a malformed percent-encoding, 404 for anything else refused. */
    readonly status: 400 | 404;
  };

const NOT_FOUND: SafePath = Object.freeze({ ok: false, status: 404 });
const BAD_REQUEST: SafePath = Object.freeze({ ok: false, status: 400 });

/** A percent-encoded `/` or `\`: a separator smuggled inside a segment. */
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;

/** Characters no decoded file name may hold. */
const FORBIDDEN = /[/\\\0]/;

/**
 * Splits a URL path (as in `new URL(request.url).pathname`) into decoded segments, or
 * refuses it.
 *
 * Each segment is percent-decoded exactly once, so `%252e%252e` names a file called
 * `%2e%2e`, never the parent. Refused with 404: a path not starting with `/`, an empty
 * segment (`//`), a `.` or `..` segment (encoded or not), an encoded `/` or `\` (`%2f`,
 * `%5c`), a backslash, and a NUL byte. A malformed percent-encoding gets 400. Hiding
 * dotfiles is left to the caller: this function only keeps the path under the root.
 *
 * @param pathname The URL path, still percent-encoded.
 * @returns The segments and whether the path ended with `/`, or the status to refuse with.
 *
 * @example Accept a nested path and refuse a climb
 * ```ts
 * import { safePath } from "./safe_path.ts";
 * safePath("/docs/a%20b.txt").ok; // true, with segments ["docs", "a b.txt"]
 * safePath("/docs/%2e%2e/secret"); // { ok: false, status: 404 }
 * safePath("/%E0%A4%A"); // { ok: false, status: 400 }
 * ```
 */
export function safePath(pathname: string): SafePath {
  if (!pathname.startsWith("/")) return NOT_FOUND;
  const parts = pathname.slice(1).split("/");
  const trailingSlash = parts[parts.length - 1] === "";
  if (trailingSlash) parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    if (part === "" || part.includes("\\") || ENCODED_SEPARATOR.test(part)) return NOT_FOUND;
    let name: string;
    try {
      name = decodeURIComponent(part);
    } catch {
      return BAD_REQUEST;
    }
    if (name === "." || name === ".." || FORBIDDEN.test(name)) return NOT_FOUND;
    segments.push(name);
  }
  return { ok: true, segments, trailingSlash };
}

/**
 * The static-file resource: a fetch handler serving the files under a root directory.
 * @module
 */

import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  optionTypeError,
} from "../core/options.ts";
import { Limiter } from "../core/limiter.ts";
import { isNotModified, isRangeFresh, validatorsOf } from "./conditional.ts";
import { contentType } from "./content_type.ts";
import { tagFileSlice } from "./file_slice.ts";
import { fileStream } from "./file_stream.ts";
import { listDirectory } from "./list_directory.ts";
import { renderListing } from "./listing.ts";
import { parseRange } from "./range.ts";
import { isMissingError, type Resolved, resolveInside, resolveRoot } from "./resolve_inside.ts";
import { safePath } from "./safe_path.ts";

/** Options of {@link files}. */
export interface FilesOptions {
  /**
   * Whether a directory without an index file gets an HTML listing; when `false`, it
   * gets 404.
   * @default true
   */
  listDirectories?: boolean;
  /**
   * Most entries shown in a directory listing: the first ones by name, followed by a
   * note of how many more there are. Only these are looked at further (a `realpath` and
   * a `stat` each, a few at a time); the other names are only read and counted, so a
   * request for a directory of any size costs a bounded number of file-system calls
   * beyond reading its names, and memory for about twice this many names. At most two
   * listings are built at once by one `files()` handler (others wait their turn), so
   * many concurrent requests for listings hold no more than two do.
   * @default 1_000
   */
  maxListingEntries?: number;
  /**
   * Whether files and directories whose name starts with `.` are served and listed;
   * when `false`, they get 404 and are left out of listings.
   * @default false
   */
  dotfiles?: boolean;
  /**
   * Name of the file served for a directory requested with a trailing `/`; `false` for
   * none (always list).
   * @default "index.html"
   */
  index?: string | false;
  /**
   * Largest chunk read from disk at a time for a response body.
   * @default 65_536
   */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;
const DEFAULT_MAX_LISTING_ENTRIES = 1_000;
/** Most listing entries looked at (`realpath` and `stat`) at once, per request. */
const LISTING_CONCURRENCY = 16;
/**
 * Most directory listings built at once by one `files()` handler; further requests for
 * listings wait their turn. What many concurrent listings hold together is then at most
 * this many listings' worth, however many requests ask at once.
 */
export const LISTINGS_AT_ONCE = 2;

const STATUS_TEXT = {
  301: "Moved Permanently",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  416: "Range Not Satisfiable",
  500: "Internal Server Error",
} as const;

const HTML = "text/html; charset=utf-8";

/**
 * Creates a fetch handler that serves the files under `root` to GET and HEAD requests.
 *
 * Files are sent with `Content-Type` (from the extension), `Content-Length`,
 * `Last-Modified`, a weak `ETag` and `Accept-Ranges: bytes`; bodies are streamed in
 * chunks of `chunkBytes`, so a large file is never held in memory (over `Bun.serve`,
 * wsport's Bun adapter sends Bun's own file body instead, which keeps the
 * `Content-Length` that Bun drops for a streamed body). The handler answers
 * 304 to a matching `If-None-Match` (or, without it, `If-Modified-Since`), and 206 or 416
 * to a single `Range` (several ranges get the whole file). A directory asked for without
 * its trailing `/` is redirected (301) to it; with it, the directory's `index` file is
 * served, or else an HTML listing (directories first, then files, by name) of at most
 * `maxListingEntries` entries.
 *
 * Nothing outside `root` is served: the URL path is decoded once and `..`, encoded
 * separators, backslashes and NUL bytes are refused, and the real path (symlinks
 * resolved) must lie inside the real path of `root`. Names starting with `.` are hidden
 * unless `dotfiles`. Refusals get 404 (400 for a malformed percent-encoding), other
 * methods 405 with `Allow: GET, HEAD`, and unexpected failures a bare 500: no response
 * reveals a file-system path.
 *
 * @param root The directory to serve, as a path or a `file:` URL.
 * @param options See {@link FilesOptions}.
 * @returns A handler for `Deno.serve`, `Bun.serve` or a site.
 * @throws {RangeError} When `chunkBytes` or `maxListingEntries` is not a positive integer.
 * @throws {TypeError} When `root` is neither a string nor a URL, `options` is not an
 *   object, an option's name is unknown, `listDirectories` or `dotfiles` is not a
 *   boolean, `chunkBytes` or `maxListingEntries` is not a number, or `index` is neither
 *   `false` nor a plain file name; the message names the option.
 *
 * @example Serve ./public next to this module
 * ```ts
 * import { files } from "./files.ts";
 * const handler = files(new URL("./public", import.meta.url), { listDirectories: false });
 * const response = await handler(new Request("http://localhost/index.html"));
 * response.status; // 200, or 404 if there is no such file
 * ```
 */
export function files(
  root: string | URL,
  options: FilesOptions = {},
): (request: Request) => Promise<Response> {
  checkFilesArguments(root, options);
  const rootPath = resolve(root instanceof URL ? fileURLToPath(root) : root);
  const listDirectories = options.listDirectories ?? true;
  const dotfiles = options.dotfiles ?? false;
  const index = options.index ?? "index.html";
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const maxListingEntries = options.maxListingEntries ?? DEFAULT_MAX_LISTING_ENTRIES;
  const listings = new Limiter(LISTINGS_AT_ONCE);

  async function serve(request: Request): Promise<Response> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return plain(405, method, { allow: "GET, HEAD" });
    const url = new URL(request.url);
    const path = safePath(url.pathname);
    if (!path.ok) return plain(path.status, method);
    const rootReal = await resolveRoot(rootPath);
    if (rootReal === null) return plain(404, method);
    const target = await resolveInside(rootReal, path.segments, dotfiles);
    if (target === null) return plain(404, method);
    if (target.stats.isFile()) {
      if (path.trailingSlash) return plain(404, method);
      return serveFile(request, target, path.segments[path.segments.length - 1]);
    }
    if (!path.trailingSlash) {
      return plain(301, method, { location: `${url.pathname}/${url.search}` });
    }
    if (index !== false) {
      const page = await resolveInside(rootReal, [...path.segments, index], dotfiles);
      if (page?.stats.isFile()) return serveFile(request, page, index);
    }
    if (!listDirectories) return plain(404, method);
    return serveListing(method, rootReal, target, path.segments);
  }

  async function serveFile(request: Request, file: Resolved, name: string): Promise<Response> {
    const method = request.method;
    let handle;
    try {
      handle = await open(file.path, "r");
    } catch (error) {
      if (isMissingError(error)) return plain(404, method);
      throw error;
    }
    let streaming = false;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return plain(404, method);
      const validators = validatorsOf(stats.size, stats.mtimeMs);
      const headers = new Headers({
        "accept-ranges": "bytes",
        "etag": validators.etag,
        "last-modified": validators.lastModified,
      });
      if (isNotModified(request.headers, validators)) {
        return new Response(null, { status: 304, headers });
      }
      const rangeHeader = request.headers.get("range");
      const range = rangeHeader !== null && isRangeFresh(request.headers, validators)
        ? parseRange(rangeHeader, stats.size)
        : null;
      if (range === "unsatisfiable") {
        return plain(416, method, { "content-range": `bytes */${stats.size}` });
      }
      const start = range?.start ?? 0;
      const length = range === null ? stats.size : range.end - range.start + 1;
      headers.set("content-type", contentType(name));
      headers.set("content-length", String(length));
      headers.set("x-content-type-options", "nosniff");
      if (range !== null) {
        headers.set("content-range", `bytes ${range.start}-${range.end}/${stats.size}`);
      }
      const status = range === null ? 200 : 206;
      if (method === "HEAD") return new Response(null, { status, headers });
      const body = tagFileSlice(fileStream(handle, start, length, chunkBytes), {
        path: file.path,
        start,
        length,
      });
      streaming = true;
      return new Response(body, { status, headers });
    } finally {
      if (!streaming) await handle.close();
    }
  }

  async function serveListing(
    method: string,
    rootReal: string,
    directory: Resolved,
    segments: readonly string[],
  ): Promise<Response> {
    let listing;
    try {
      listing = await listings.run(() =>
        listDirectory(directory.path, {
          maxEntries: maxListingEntries,
          concurrency: LISTING_CONCURRENCY,
          visible: (name) => dotfiles || !name.startsWith("."),
          describe: async (name) => {
            const entry = await resolveInside(rootReal, [...segments, name], dotfiles);
            if (entry === null) return null;
            const { stats } = entry;
            return {
              name,
              directory: stats.isDirectory(),
              size: stats.size,
              modified: stats.mtime,
            };
          },
        })
      );
    } catch (error) {
      if (isMissingError(error)) return plain(404, method);
      throw error;
    }
    const path = `/${segments.map((segment) => `${segment}/`).join("")}`;
    const body = new TextEncoder().encode(renderListing(path, listing.entries, listing.more));
    const headers = {
      "content-type": HTML,
      "content-length": String(body.length),
      "x-content-type-options": "nosniff",
    };
    return new Response(method === "HEAD" ? null : body, { status: 200, headers });
  }

  return async (request) => {
    try {
      return await serve(request);
    } catch {
      return plain(500, request.method);
    }
  };
}

const CALLER = "files()";

/** Checks of each option of {@link files}: the type checker keeps the list complete. */
const OPTION_CHECKS: { [Name in keyof Required<FilesOptions>]: (value: unknown) => void } = {
  listDirectories: (value) => checkType(CALLER, "listDirectories", value, "boolean"),
  dotfiles: (value) => checkType(CALLER, "dotfiles", value, "boolean"),
  index: (value) => {
    if (value === undefined || value === false) return;
    if (typeof value !== "string" || !isPlainName(value)) {
      throw optionTypeError(CALLER, "index", "false or a plain file name", value);
    }
  },
  chunkBytes: (value) => checkInteger(CALLER, "chunkBytes", value, 1),
  maxListingEntries: (value) => checkInteger(CALLER, "maxListingEntries", value, 1),
};

/** Checks what {@link files} was given, naming the option at fault. */
function checkFilesArguments(root: unknown, options: unknown): void {
  if (typeof root !== "string" && !(root instanceof URL)) {
    throw new TypeError(
      `${CALLER}: root must be a path or a file: URL, got ${describeValue(root)}`,
    );
  }
  const given = checkOptionNames(CALLER, options, Object.keys(OPTION_CHECKS));
  for (const [name, check] of Object.entries(OPTION_CHECKS)) check(given[name]);
}

/** Whether `name` names a file directly inside a directory. */
function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}

/** A short plain-text response; its body is left out for HEAD. */
function plain(
  status: keyof typeof STATUS_TEXT,
  method: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(method === "HEAD" ? null : STATUS_TEXT[status], {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

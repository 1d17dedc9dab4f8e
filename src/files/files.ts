/**
 * The static-file resource: a fetch handler serving the files under a root directory.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  optionTypeError,
} from "../core/options.ts";
import type { FileServerSettings } from "./file_server.ts";
import { plainResponse } from "./plain_response.ts";

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
 * The file-system side loads at the first request (so importing wsport loads no `node:`
 * module for it), and a relative `root` is resolved against the working directory then.
 *
 * @param root The directory to serve, as a path or a `file:` URL.
 * @param options See {@link FilesOptions}.
 * @returns A handler for `Deno.serve`, `Bun.serve` or a site.
 * @throws {RangeError} When `chunkBytes` or `maxListingEntries` is not a positive integer.
 * @throws {TypeError} When `root` is neither a string nor a `file:` URL, `options` is not an
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
  const settings: FileServerSettings = {
    root: root instanceof URL ? new URL(root) : root,
    listDirectories: options.listDirectories ?? true,
    dotfiles: options.dotfiles ?? false,
    index: options.index ?? "index.html",
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    maxListingEntries: options.maxListingEntries ?? DEFAULT_MAX_LISTING_ENTRIES,
  };
  // The file system's side (node:fs, node:path, node:url) loads at the first request, so
  // that importing wsport loads none of it on Deno or Bun.
  let server: Promise<(request: Request) => Promise<Response>> | undefined;
  return async (request) => {
    try {
      server ??= import("./file_server.ts").then((module) => module.fileServer(settings));
      return await (await server)(request);
    } catch {
      return plainResponse(500, request.method);
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
  if (typeof root !== "string" && !(root instanceof URL && root.protocol === "file:")) {
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

/**
 * The static-file handler's work on the file system, behind `files()`: loaded on
 * its first request, so that importing wsport loads no `node:` module for it.
 * @module
 */

import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Limiter } from "../core/limiter.ts";
import { isNotModified, isRangeFresh, validatorsOf } from "./conditional.ts";
import { contentType } from "./content_type.ts";
import { tagFileSlice } from "./file_slice.ts";
import { fileStream } from "./file_stream.ts";
import { listDirectory } from "./list_directory.ts";
import { renderListing } from "./listing.ts";
import { plainResponse } from "./plain_response.ts";
import { parseRange } from "./range.ts";
import { isMissingError, type Resolved, resolveInside, resolveRoot } from "./resolve_inside.ts";
import { safePath } from "./safe_path.ts";

/** Most listing entries looked at (`realpath` and `stat`) at once, per request. */
const LISTING_CONCURRENCY = 16;
/**
 * Most directory listings built at once by one `files()` handler; further requests for
 * listings wait their turn. What many concurrent listings hold together is then at most
 * this many listings' worth, however many requests ask at once.
 */
export const LISTINGS_AT_ONCE = 2;

const HTML = "text/html; charset=utf-8";

/**
 * What `files()` was given, checked, with every default filled in: each field as
 * `FilesOptions` describes it (`root` as `files()` takes it).
 */
export interface FileServerSettings {
  /** The directory to serve, as a path or a `file:` URL. */
  readonly root: string | URL;
  readonly listDirectories: boolean;
  readonly dotfiles: boolean;
  readonly index: string | false;
  readonly chunkBytes: number;
  readonly maxListingEntries: number;
}

/**
 * The handler `files()` describes, over the file system. A relative `root` is
 * resolved against the working directory now. It may throw on an unexpected failure:
 * `files()` answers that with a bare 500.
 */
export function fileServer(settings: FileServerSettings): (request: Request) => Promise<Response> {
  const { root, listDirectories, dotfiles, index, chunkBytes, maxListingEntries } = settings;
  const rootPath = resolve(root instanceof URL ? fileURLToPath(root) : root);
  const listings = new Limiter(LISTINGS_AT_ONCE);

  async function serve(request: Request): Promise<Response> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      return plainResponse(405, method, { allow: "GET, HEAD" });
    }
    const url = new URL(request.url);
    const path = safePath(url.pathname);
    if (!path.ok) return plainResponse(path.status, method);
    const rootReal = await resolveRoot(rootPath);
    if (rootReal === null) return plainResponse(404, method);
    const target = await resolveInside(rootReal, path.segments, dotfiles);
    if (target === null) return plainResponse(404, method);
    if (target.stats.isFile()) {
      if (path.trailingSlash) return plainResponse(404, method);
      return serveFile(request, target, path.segments[path.segments.length - 1]);
    }
    if (!path.trailingSlash) {
      return plainResponse(301, method, { location: `${url.pathname}/${url.search}` });
    }
    if (index !== false) {
      const page = await resolveInside(rootReal, [...path.segments, index], dotfiles);
      if (page?.stats.isFile()) return serveFile(request, page, index);
    }
    if (!listDirectories) return plainResponse(404, method);
    return serveListing(method, rootReal, target, path.segments);
  }

  async function serveFile(request: Request, file: Resolved, name: string): Promise<Response> {
    const method = request.method;
    let handle;
    try {
      handle = await open(file.path, "r");
    } catch (error) {
      if (isMissingError(error)) return plainResponse(404, method);
      throw error;
    }
    let streaming = false;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return plainResponse(404, method);
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
        return plainResponse(416, method, { "content-range": `bytes */${stats.size}` });
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
      if (isMissingError(error)) return plainResponse(404, method);
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

  return serve;
}

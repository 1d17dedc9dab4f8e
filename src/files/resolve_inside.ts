/**
 * Finding the file or directory a request names, with symlinks resolved, and refusing it
 * when it lies outside the root or is hidden.
 * @module
 */

import type { Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";

/** A regular file or directory found inside the root. */
export interface Resolved {
  /** Its real path: absolute, symlinks resolved. */
  readonly path: string;
  /** Its status; `isFile()` or `isDirectory()` is true. */
  readonly stats: Stats;
}

/** Error codes that mean "nothing servable there" rather than a fault of the server. */
const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EACCES", "EPERM", "ENAMETOOLONG"]);

/**
 * Returns the real path of the root, or `null` when it does not exist or cannot be read.
 *
 * @param root The configured root directory.
 * @returns Its real path, to pass to {@link resolveInside}.
 * @throws Any other file-system error (too many open files, I/O error).
 */
export async function resolveRoot(root: string): Promise<string | null> {
  try {
    return await realpath(root);
  } catch (error) {
    return ifMissing(error);
  }
}

/**
 * Resolves `segments` under the root and returns the regular file or directory found, or
 * `null` when there is none to serve.
 *
 * `null` means: nothing there, not a regular file or directory (a socket, a FIFO), a real
 * path outside `rootReal` (a symlink pointing out, compared after `realpath`, so
 * `/srv/root-other` is not inside `/srv/root`), or, unless `dotfiles`, a segment of the
 * requested or of the real path (below the root) starting with `.`.
 *
 * @param rootReal The real path of the root, from {@link resolveRoot}.
 * @param segments Decoded file names under the root, from `safePath()`.
 * @param dotfiles Whether names starting with `.` may be served.
 * @returns The real path and status, or `null`.
 * @throws Any file-system error other than a missing or unreadable path.
 *
 * @example Resolve a request for /docs/guide.html
 * ```ts
 * import { resolveInside, resolveRoot } from "./resolve_inside.ts";
 * const rootReal = await resolveRoot("./public");
 * if (rootReal !== null) {
 *   const found = await resolveInside(rootReal, ["docs", "guide.html"], false);
 *   found?.stats.isFile();
 * }
 * ```
 */
export async function resolveInside(
  rootReal: string,
  segments: readonly string[],
  dotfiles: boolean,
): Promise<Resolved | null> {
  if (!dotfiles && segments.some(isDotName)) return null;
  try {
    const path = await realpath(join(rootReal, ...segments));
    const below = relative(rootReal, path);
    if (below === ".." || below.startsWith(`..${sep}`) || isAbsolute(below)) return null;
    if (!dotfiles && below.split(sep).some(isDotName)) return null;
    const stats = await stat(path);
    return stats.isFile() || stats.isDirectory() ? { path, stats } : null;
  } catch (error) {
    return ifMissing(error);
  }
}

function isDotName(name: string): boolean {
  return name.startsWith(".");
}

/**
 * Tells whether a file-system error means the path is missing or unreadable (a 404),
 * rather than a fault of the server.
 *
 * @param error An error thrown by a `node:fs` function.
 * @returns `true` for `ENOENT`, `ENOTDIR`, `ELOOP`, `EACCES`, `EPERM` and `ENAMETOOLONG`.
 */
export function isMissingError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && MISSING.has(code);
}

/** Returns `null` for a missing-path error and rethrows any other. */
function ifMissing(error: unknown): null {
  if (isMissingError(error)) return null;
  throw error;
}

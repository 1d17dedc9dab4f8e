/**
 * Reading a directory for its listing with bounded work: every name is read once, but at
 * most a fixed number of entries are looked at further.
 * @module
 */

import { opendir } from "node:fs/promises";
import type { ListingEntry } from "./listing.ts";

/** What {@link listDirectory} found. */
export interface DirectoryListing {
  /** The entries to show: at most `maxEntries`, in no particular order. */
  readonly entries: ListingEntry[];
  /** How many more visible names the directory holds, not shown. */
  readonly more: number;
}

/** How {@link listDirectory} picks and describes entries. */
export interface ListDirectoryOptions {
  /** Most entries described and shown; the others are only counted. */
  readonly maxEntries: number;
  /** Most entries described at once. */
  readonly concurrency: number;
  /** Whether a name may be shown at all (hidden names are neither shown nor counted). */
  readonly visible: (name: string) => boolean;
  /**
   * Describes one entry (a `realpath` and a `stat`), or returns `null` to leave it out
   * (a link out of the root, a socket).
   */
  readonly describe: (name: string) => Promise<ListingEntry | null>;
}

/** How many names `opendir` reads from the system at a time. */
const DIRECTORY_BUFFER = 256;

/**
 * Reads the names in a directory and describes the first `maxEntries` of the visible
 * ones by name (UTF-16 code units), at most `concurrency` at a time.
 *
 * The names are streamed with `opendir`, never all held at once: memory stays within
 * about `2 × maxEntries` names and `describe` is called at most `maxEntries` times,
 * whatever the directory holds. The other visible names are only counted (reading a
 * name costs no system call of its own), for a note of how many were left out.
 *
 * @param path The directory's real path.
 * @param options The cap, the concurrency, and how to filter and describe entries.
 * @returns The described entries and how many visible names were not described.
 * @throws Any error of `opendir` or of `describe`.
 *
 * @example List at most 100 entries of a directory
 * ```ts
 * import { stat } from "node:fs/promises";
 * import { join } from "node:path";
 * import { listDirectory } from "./list_directory.ts";
 * const { entries, more } = await listDirectory(".", {
 *   maxEntries: 100,
 *   concurrency: 8,
 *   visible: (name) => !name.startsWith("."),
 *   describe: async (name) => {
 *     const stats = await stat(join(".", name));
 *     return { name, directory: stats.isDirectory(), size: stats.size, modified: stats.mtime };
 *   },
 * });
 * entries.length <= 100; // true
 * more >= 0; // true
 * ```
 */
export async function listDirectory(
  path: string,
  options: ListDirectoryOptions,
): Promise<DirectoryListing> {
  const { maxEntries, visible } = options;
  const kept: string[] = [];
  let seen = 0;
  const dir = await opendir(path, { bufferSize: DIRECTORY_BUFFER });
  for await (const entry of dir) {
    const name = entry.name;
    if (!visible(name)) continue;
    seen++;
    kept.push(name);
    // Keep the smallest names only: sorting at twice the cap costs O(log cap) a name.
    if (kept.length >= 2 * maxEntries) keepFirst(kept, maxEntries);
  }
  keepFirst(kept, maxEntries);
  const described = await describeAll(kept, options);
  return { entries: described.filter((entry) => entry !== null), more: seen - kept.length };
}

/** Sorts `names` and drops all but the first `count`. */
function keepFirst(names: string[], count: number): void {
  names.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  if (names.length > count) names.length = count;
}

/** Describes every name, at most `concurrency` at a time, keeping their order. */
async function describeAll(
  names: readonly string[],
  { concurrency, describe }: ListDirectoryOptions,
): Promise<(ListingEntry | null)[]> {
  const described = new Array<ListingEntry | null>(names.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const index = next++;
      described[index] = await describe(names[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return described;
}

/** Paths of the repository, the same whether a test runs from source or compiled. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(start: string): string {
  let directory = start;
  while (!existsSync(join(directory, "deno.json"))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`No deno.json above ${start}`);
    directory = parent;
  }
  return directory;
}

/** The repository's root folder (where deno.json is). */
export const repoRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

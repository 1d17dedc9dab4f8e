/**
 * Where the conformance and interop tests leave their results, for `report.mjs` to turn
 * into RESULTS.md and INTEROP.md.
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../helpers/paths.ts";

/** The folder of the saved results (inside the ignored build folder). */
export const RESULTS_DIR: string = join(repoRoot, ".build", "conformance");

/** The runtime running the tests, with its version: "Deno 2.9.6". */
export function runtimeVersion(): string {
  const global = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (global.Deno !== undefined) return `Deno ${global.Deno.version.deno}`;
  if (global.Bun !== undefined) return `Bun ${global.Bun.version}`;
  return `Node ${process.version}`;
}

/** Saves one run's results as `<name>.json`, with the runtime's version. */
export function saveResults(name: string, results: object): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${name}.json`),
    JSON.stringify({ runtime: runtimeVersion(), ...results }, null, 2),
  );
}

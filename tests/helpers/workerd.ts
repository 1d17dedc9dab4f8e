/**
 * The test Worker (`tests/workers/fixture_worker.ts`) under a local `workerd`, started
 * with the same module as `npm run workers:echo` (`examples/workers/workerd.ts`).
 *
 * `workerd` tests run on Node only: `workerd` is the server under test whatever runs
 * the client, and starting it on every runtime would triple the time for the same
 * observations. On Deno and Bun they skip, saying so.
 * @module
 */

import { join } from "node:path";
import { type RunningWorker, startWorker } from "../../examples/workers/workerd.ts";
import { repoRoot } from "./paths.ts";
import { unavailable } from "./required.ts";
import { runtime } from "./server.ts";

/** Why the `workerd` tests skip here, or `false` when they run. */
export const skipWorkerd: string | false = runtime !== "node"
  ? "workerd tests run on Node only (see tests/helpers/workerd.ts)"
  : await unavailable({
    file: join(repoRoot, "node_modules", ".bin", "workerd"),
    missing: "the workerd devDependency is not installed (npm install)",
  }) ?? false;

/** Starts the test Worker on a free port, with these compatibility flags. */
export function startFixture(compatibilityFlags: readonly string[] = []): Promise<RunningWorker> {
  return startWorker({
    entry: "tests/workers/fixture_worker.ts",
    durableObjects: [{ className: "TestObject", binding: "OBJECTS" }],
    compatibilityFlags,
  });
}

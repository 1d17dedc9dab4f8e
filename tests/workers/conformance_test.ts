/**
 * The conformance suite against a plain Worker's echo under `workerd`: every handshake
 * case as RFC 6455 asks (wsport judges the request), the frames as the runtime handles
 * them, each difference documented in `conformance/expectations.ts`. Its row in
 * `conformance/RESULTS.md` comes from the results this saves.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MANUAL_CLOSE, type RunningWorker } from "../../examples/workers/workerd.ts";
import { cases } from "../conformance/cases.ts";
import { judge } from "../conformance/expectations.ts";
import { runConformance } from "../conformance/run_cases.ts";
import { repoRoot } from "../helpers/paths.ts";
import { skipWorkerd as skip, startFixture } from "../helpers/workerd.ts";

let worker: RunningWorker;
if (!skip) {
  before(async () => worker = await startFixture());
  after(() => worker.stop());
}

/** `workerd 2026-11-23`, as the installed binary says. */
function workerdVersion(): string {
  const probe = spawnSync(join(repoRoot, "node_modules", ".bin", "workerd"), ["--version"]);
  return String(probe.stdout).trim();
}

test("conformance on workerd/workers-adapter: every case as RFC 6455 asks, or as documented", {
  skip,
}, async () => {
  const run = await runConformance("workerd/workers-adapter", worker.port, workerdVersion());
  assert.deepEqual(run.failures, [], `${run.summary}\n${run.failures.join("\n")}`);
  const handshakes = run.results.filter((result) => result.id.startsWith("0."));
  assert.ok(handshakes.length > 0);
  for (const result of handshakes) assert.equal(result.verdict, "passed", result.id);
});

/** The close cases the runtime's own answer gets wrong, and wsport's gets right. */
const ANSWERED_BY_WSPORT = ["7.3.6", ...Array.from({ length: 12 }, (_, i) => `7.9.${i + 1}`)]
  // A Close carrying 1005 reaches the Worker as one carrying no code: it is answered so.
  .filter((id) => id !== "7.9.4");

test("with web_socket_manual_reply_to_close, wsport answers the Close: 1002 for invalid codes", {
  skip,
}, async () => {
  const manual = await startFixture([MANUAL_CLOSE]);
  try {
    for (const item of cases.filter((item) => item.id.startsWith("7."))) {
      const observed = await item.run(manual.port);
      if (ANSWERED_BY_WSPORT.includes(item.id)) assert.equal(observed, item.expected, item.id);
      else {
        assert.equal(
          judge("workerd/workers-adapter", item.id, item.expected, observed).verdict === "failed",
          false,
          `${item.id}: ${observed}`,
        );
      }
    }
  } finally {
    await manual.stop();
  }
});

/**
 * One run of the conformance suite against a server: every case of `cases.ts`, judged
 * against RFC 6455 and the documented differences, printed one line per case with a
 * summary, and saved for `report.mjs`. The adapters' test and the Workers' test share it.
 * @module
 */

import { type Case, cases } from "./cases.ts";
import { judge, type Judgement } from "./expectations.ts";
import { saveResults } from "./results.ts";

/** Cases run at once on one server: enough to overlap the waits, few enough for 2 cores. */
const CONCURRENCY = 6;

/** A case's outcome on one pair. */
export interface Result extends Judgement {
  id: string;
  title: string;
  expected: string;
  observed: string;
}

/** Runs `work` on every item, at most `limit` at a time, keeping the items' order. */
async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function runCase(pair: string, port: number, item: Case): Promise<Result> {
  let observed: string;
  try {
    observed = await item.run(port);
  } catch (error) {
    observed = `the case threw: ${(error as Error).message}`;
  }
  return {
    id: item.id,
    title: item.title,
    expected: item.expected,
    observed,
    ...judge(pair, item.id, item.expected, observed),
  };
}

const MARK = { passed: "ok  ", failed: "FAIL", differing: "diff" } as const;

/** What one run found. */
export interface ConformanceRun {
  readonly results: readonly Result[];
  /** The failed cases' lines; empty when every case passed or differed as documented. */
  readonly failures: readonly string[];
  /** The summary line: how many passed, failed, differed. */
  readonly summary: string;
}

/**
 * Runs every case against the echo at `/echo` on `port`, prints the report, and saves
 * the results as `conformance-<pair>` (with `runtime`, when given, as the server's
 * version instead of the test runtime's).
 */
export async function runConformance(
  pair: string,
  port: number,
  runtime?: string,
): Promise<ConformanceRun> {
  const results = await inPool(cases, CONCURRENCY, (item) => runCase(pair, port, item));
  const lines = results.map((result) => {
    const detail = result.verdict === "passed"
      ? ""
      : result.verdict === "differing"
      ? ` -> ${result.observed} (documented)`
      : ` -> ${result.problem}`;
    return `${MARK[result.verdict]} ${result.id} ${result.title}${detail}`;
  });
  const count = (verdict: string) => results.filter((result) => result.verdict === verdict).length;
  const summary = `conformance ${pair}: ${count("passed")} passed, ${count("failed")} failed, ${
    count("differing")
  } differing (documented)`;
  const report = [...lines, summary].join("\n");
  console.log(report);
  saveResults(`conformance-${pair.replace("/", "+")}`, {
    pair,
    results,
    ...(runtime === undefined ? {} : { runtime }),
  });
  const failures = lines.filter((line) => line.startsWith(MARK.failed));
  return { results, failures, summary };
}

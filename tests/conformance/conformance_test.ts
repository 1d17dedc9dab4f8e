/**
 * The conformance suite on every adapter this runtime hosts: each case of `cases.ts`
 * against an echo site, judged against RFC 6455 and the documented differences of the
 * native adapters. Prints one line per case and a summary per pair, and saves the results
 * for `report.mjs`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CloseInfo } from "../../src/core/connection.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { within } from "../helpers/client.ts";
import { deferred, Echo, pairs, withSite } from "../helpers/server.ts";
import { type Case, cases } from "./cases.ts";
import { DIFFERENCES, judge, type Judgement } from "./expectations.ts";
import { Peer } from "./peer.ts";
import { saveResults } from "./results.ts";
import { encodeFrame, OP } from "./wire.ts";

/** Cases run at once on one server: enough to overlap the waits, few enough for 2 cores. */
const CONCURRENCY = 6;

/** A case's outcome on one pair. */
interface Result extends Judgement {
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

test("the documented differences name native adapters and existing cases only", () => {
  const ids = new Set(cases.map((item) => item.id));
  assert.equal(ids.size, cases.length, "case ids are unique");
  for (const difference of DIFFERENCES) {
    assert.match(difference.pair, /^(deno\/deno|bun\/bun)-adapter$/);
    assert.ok(ids.has(difference.id), `no case ${difference.id}`);
    assert.notEqual(difference.why, "");
  }
});

for (const pair of pairs) {
  test(`conformance on ${pair.name}: every case as RFC 6455 asks, or as documented`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo);
    let results: Result[] = [];
    await withSite(site, pair, async (server) => {
      results = await inPool(cases, CONCURRENCY, (item) => runCase(pair.name, server.port, item));
    });
    const lines = results.map((result) => {
      const detail = result.verdict === "passed"
        ? ""
        : result.verdict === "differing"
        ? ` -> ${result.observed} (documented)`
        : ` -> ${result.problem}`;
      return `${MARK[result.verdict]} ${result.id} ${result.title}${detail}`;
    });
    const count = (verdict: string) =>
      results.filter((result) => result.verdict === verdict).length;
    const summary = `conformance ${pair.name}: ${count("passed")} passed, ${
      count("failed")
    } failed, ${count("differing")} differing (documented)`;
    console.log([...lines, summary].join("\n"));
    saveResults(`conformance-${pair.name.replace("/", "+")}`, { pair: pair.name, results });
    const failures = lines.filter((line) => line.startsWith(MARK.failed));
    assert.deepEqual(failures, [], `${summary}\n${failures.join("\n")}`);
  });
}

for (const pair of pairs) {
  // The runtimes' own servers keep the code to themselves: the handler sees 1006 there.
  const code = pair.native ? 1006 : 1002;
  test(`connectionLost on ${pair.name} after a protocol violation: code ${code}`, async () => {
    const lost = deferred<CloseInfo>();
    class Recorded extends Echo {
      override connectionLost(info: CloseInfo): void {
        lost.resolve(info);
      }
    }
    const site = new WebSocketSite();
    site.addHandler("/echo", Recorded);
    await withSite(site, pair, async (server) => {
      const peer = await Peer.open(server.port);
      try {
        peer.write(encodeFrame({ opcode: OP.text, payload: "hello", rsv: 4 }));
        const info = await within(lost.promise, "connectionLost");
        assert.equal(info.code, code);
        assert.equal(info.wasClean, false);
      } finally {
        peer.destroy();
      }
    });
  });
}

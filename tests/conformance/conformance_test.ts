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
import { cases } from "./cases.ts";
import { DIFFERENCES } from "./expectations.ts";
import { Peer } from "./peer.ts";
import { type ConformanceRun, runConformance } from "./run_cases.ts";
import { encodeFrame, OP } from "./wire.ts";

test("the documented differences name native adapters and existing cases only", () => {
  const ids = new Set(cases.map((item) => item.id));
  assert.equal(ids.size, cases.length, "case ids are unique");
  for (const difference of DIFFERENCES) {
    assert.match(difference.pair, /^(deno\/deno|bun\/bun|workerd\/workers)-adapter$/);
    assert.ok(ids.has(difference.id), `no case ${difference.id}`);
    assert.notEqual(difference.why, "");
  }
});

for (const pair of pairs) {
  test(`conformance on ${pair.name}: every case as RFC 6455 asks, or as documented`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo);
    let run: ConformanceRun | undefined;
    await withSite(site, pair, async (server) => {
      run = await runConformance(pair.name, server.port);
    });
    assert.deepEqual(run!.failures, [], `${run!.summary}\n${run!.failures.join("\n")}`);
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

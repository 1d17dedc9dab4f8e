/**
 * A hostile client against directory listings: concurrent requests for a folder of
 * 5,000 entries. The attack server (see `README.md`) must bound the work and memory of
 * each request, and serve a normal client after.
 */
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawRequest } from "../helpers/client.ts";
import { pairs } from "../helpers/server.ts";
import { MiB } from "./attack_limits.ts";
import { bound, underAttack } from "./harness.ts";

const ENTRIES = 5_000;
const CONCURRENT = 8;
const ROUNDS = 3;

/**
 * A listing request may hold its page and what it knows of the entries it lists: with a
 * cap on entries (a few thousand at most, ~200 B each on the page and as much for the
 * file's details), well under 2 MiB per request.
 */
const LISTING_BOUND = bound(
  CONCURRENT * 2 * MiB,
  `${CONCURRENT} concurrent requests × 2 MiB`,
);

for (const pair of pairs) {
  test(`${pair.name}: ${CONCURRENT} concurrent listings of ${ENTRIES} entries stay within ${LISTING_BOUND.formula}`, async () => {
    const root = mkdtempSync(join(tmpdir(), "wsport-abuse-"));
    for (let i = 0; i < ENTRIES; i++) {
      writeFileSync(join(root, `entry-${String(i).padStart(5, "0")}.txt`), "");
    }
    try {
      await underAttack(pair, "directory listing", LISTING_BOUND, async (server) => {
        let bytes = 0;
        let statuses = "";
        for (let round = 0; round < ROUNDS; round++) {
          const responses = await Promise.all(
            Array.from(
              { length: CONCURRENT },
              () => rawRequest(server.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            ),
          );
          bytes = Math.max(...responses.map((response) => response.body.length));
          statuses = [...new Set(responses.map((response) => response.status))].join(", ");
        }
        return {
          release: () => {},
          note: `${ROUNDS} × ${CONCURRENT} listings, status ${statuses}, ${bytes} B each`,
        };
      }, { root, peak: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

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
import { LISTINGS_AT_ONCE } from "../../src/files/file_server.ts";
import { MiB } from "./attack_limits.ts";
import { bound, underAttack } from "./harness.ts";

const ENTRIES = 5_000;
const CONCURRENT = 8;
const ROUNDS = 3;

/**
 * A listing being built holds its page and what it knows of the entries it lists: with
 * the cap on entries (1,000 by default: ~150 B each on the page, twice that as a string
 * while it is built, and a `stat` result each), under 4 MiB with its garbage. However
 * many requests ask at once, one `files()` handler builds at most `LISTINGS_AT_ONCE`.
 */
const PER_LISTING_BYTES = 4 * MiB;

/**
 * What the runtime's file-system threads keep resident once busy, whatever the number of
 * requests: Deno runs each `stat` and `realpath` on a pool of blocking threads, and the
 * allocator arenas those threads touch stay resident (measured: +41 to +46 MiB peak for
 * 24 listings and +45 to +56 MiB for 64, where Node stays under +10 MiB). A fixed cost,
 * not one per request: before listings were capped, the same attack grew the peak by
 * +149 to +476 MiB and grew with the directory.
 */
const FILE_SYSTEM_THREADS_BYTES = 32 * MiB;

const LISTING_BOUND = bound(
  LISTINGS_AT_ONCE * PER_LISTING_BYTES + FILE_SYSTEM_THREADS_BYTES,
  `${LISTINGS_AT_ONCE} listings built at once × 4 MiB + 32 MiB for the runtime's file-system threads`,
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
      }, {
        root,
        peak: true,
        // One listing first: what the first one costs once (code, caches) is not per request.
        twin: (server) => rawRequest(server.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

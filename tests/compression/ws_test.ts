// permessage-deflate against the `ws` package, run by Node as a child process whatever
// runtime serves (on Bun, `import "ws"` would be Bun's own client): text and binary
// echoed through the tap, with and without context takeover and with window-bit offers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../helpers/paths.ts";
import { unavailable } from "../helpers/required.ts";
import { runtime, withSite } from "../helpers/server.ts";
import { runClient } from "./client_process.ts";
import {
  assertCompressedOnTheWire,
  assertEchoed,
  byAdapter,
  compressingPairs,
  configurations,
  echoSite,
  PATH,
} from "./scenario.ts";
import { Tap } from "./tap.ts";

const NODE = runtime === "node" ? process.execPath : "node";
const CLIENT = [NODE, join(repoRoot, "tests", "compression", "ws_client.mjs")];

const skip = await unavailable({
  command: [NODE, "-e", "import('ws')"],
  cwd: repoRoot,
  missing: "node is not on PATH",
  failing: "the ws package is not installed (npm install)",
});

/** What `ws` takes as `perMessageDeflate` on the client side. */
interface WsDeflate {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number | boolean;
}

/**
 * An offer `ws` makes with given options, and what each adapter must answer (`undefined`
 * where it declines the offer: the case does not run there).
 */
interface OfferCase {
  name: string;
  offer: WsDeflate;
  answer: { node: string; bun: string | undefined };
}

const offers: OfferCase[] = [
  {
    name: "the client's window bits and no-takeover requests granted",
    offer: {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 9,
    },
    answer: {
      node: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
        "server_max_window_bits=10; client_max_window_bits=9",
      // uWebSockets declines server_no_context_takeover offered with server_max_window_bits.
      bun: undefined,
    },
  },
  {
    name: "the client's window bits granted",
    offer: { serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
    answer: {
      node: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
      bun: "permessage-deflate; client_max_window_bits=9; server_max_window_bits=10",
    },
  },
  {
    name: "the client's no-takeover requests granted",
    offer: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    answer: {
      node: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      bun: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    },
  },
  {
    name: "an 8-bit server window",
    offer: { serverMaxWindowBits: 8 },
    answer: {
      node: "permessage-deflate; server_max_window_bits=8",
      bun: "permessage-deflate; server_max_window_bits=8",
    },
  },
];

for (const pair of compressingPairs) {
  describe(`${pair.name}: ws with compression`, { skip }, () => {
    for (const configuration of configurations) {
      test(`echoes text and binary, compressed both ways (${configuration.name})`, async () => {
        await withSite(echoSite(configuration.setting), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await runClient(CLIENT, `ws://127.0.0.1:${tap.port}${PATH}`, true);
            assertEchoed(result.echoes);
            const answer = byAdapter(configuration.answer, pair);
            assertCompressedOnTheWire(tap, answer);
            assert.equal(result.extensions, answer);
          } finally {
            await tap.stop();
          }
        });
      });
    }

    for (const { name, offer, answer } of offers) {
      const expected = byAdapter(answer, pair);
      if (expected === undefined) continue;
      test(`echoes with ${name}`, async () => {
        await withSite(echoSite(true), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const url = `ws://127.0.0.1:${tap.port}${PATH}`;
            assertEchoed((await runClient(CLIENT, url, offer)).echoes);
            assertCompressedOnTheWire(tap, expected);
          } finally {
            await tap.stop();
          }
        });
      });
    }
  });
}

// permessage-deflate against Python's `websockets` (python3-websockets), which
// compresses every message by default: text and binary echoed through the tap, with and
// without context takeover, and with window-bit offers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { repoRoot } from "../helpers/paths.ts";
import { skipUnless, unavailable } from "../helpers/required.ts";
import { withSite } from "../helpers/server.ts";
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

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(repoRoot, "tests", "compression", "python_client.py");

const skip = skipUnless(
  "python",
  await unavailable({
    command: [PYTHON, "-c", "import websockets"],
    missing: `${PYTHON} is not installed`,
    failing: "python3-websockets is not installed (apt-get install python3-websockets)",
  }),
);

const CLIENT = [PYTHON, SCRIPT];

for (const pair of compressingPairs) {
  describe(`${pair.name}: Python websockets with compression`, { skip }, () => {
    for (const configuration of configurations) {
      test(`echoes text and binary, compressed both ways (${configuration.name})`, async () => {
        await withSite(echoSite(configuration.setting), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await runClient(CLIENT, `ws://127.0.0.1:${tap.port}${PATH}`, {});
            assertEchoed(result.echoes);
            assertCompressedOnTheWire(tap, byAdapter(configuration.answer, pair));
            assert.match(result.extensions, /^PerMessageDeflate\(/);
          } finally {
            await tap.stop();
          }
        });
      });
    }

    // Separate offers: uWebSockets (Bun.serve) declines server_no_context_takeover
    // offered together with server_max_window_bits.
    const offers: [string, Record<string, unknown>, { node: string; bun: string }, string][] = [
      [
        "window bits",
        { server_max_window_bits: 10, client_max_window_bits: 9 },
        {
          node: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
          bun: "permessage-deflate; client_max_window_bits=9; server_max_window_bits=10",
        },
        "remote_no_context_takeover=False, local_no_context_takeover=False, " +
        "remote_max_window_bits=10, local_max_window_bits=9",
      ],
      [
        "no-takeover",
        { server_no_context_takeover: true, client_no_context_takeover: true },
        {
          node: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
          bun: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        },
        "remote_no_context_takeover=True, local_no_context_takeover=True, " +
        "remote_max_window_bits=15, local_max_window_bits=15",
      ],
    ];
    for (const [name, offer, answer, agreement] of offers) {
      test(`echoes with its ${name} requests granted`, async () => {
        await withSite(echoSite(true), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await runClient(CLIENT, `ws://127.0.0.1:${tap.port}${PATH}`, offer);
            assertEchoed(result.echoes);
            assertCompressedOnTheWire(tap, byAdapter(answer, pair));
            // Python's view of the agreement: its remote side is the server.
            assert.equal(result.extensions, `PerMessageDeflate(${agreement})`);
          } finally {
            await tap.stop();
          }
        });
      });
    }
  });
}

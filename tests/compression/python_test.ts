// permessage-deflate against Python's `websockets` (python3-websockets), which
// compresses every message by default: text and binary echoed through the tap, with and
// without context takeover, and with window-bit offers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { within } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { withSite } from "../helpers/server.ts";
import {
  assertCompressedOnTheWire,
  assertEchoed,
  compressingPairs,
  configurations,
  echoSite,
  MESSAGES,
  PATH,
} from "./scenario.ts";
import { Tap } from "./tap.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(repoRoot, "tests", "compression", "python_client.py");

/** Why the tests cannot run here, or `undefined` when they can. */
function unavailable(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import websockets"], { encoding: "utf8" });
  if (probe.error !== undefined) return `${PYTHON} is not installed`;
  if (probe.status !== 0) {
    return "python3-websockets is not installed (apt-get install python3-websockets)";
  }
  return undefined;
}

const skip = unavailable();

/** Python's answer: the echoes and the extension it negotiated, as it describes it. */
interface PythonResult {
  echoes: (string | Uint8Array)[];
  extensions: string[];
}

/** Runs the Python client against `url` with `offer`, sending {@linkcode MESSAGES}. */
async function runPython(url: string, offer: Record<string, unknown> = {}): Promise<PythonResult> {
  const child = spawn(PYTHON, [SCRIPT, url, JSON.stringify(offer)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => stdout += text);
  child.stderr.setEncoding("utf8").on("data", (text: string) => stderr += text);
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  child.stdin.end(
    JSON.stringify(
      MESSAGES.map((message) =>
        typeof message === "string"
          ? { text: message }
          : { binary: Buffer.from(message).toString("base64") }
      ),
    ),
  );
  let code: number | null;
  try {
    code = await within(exited, "the Python client", 20_000);
  } finally {
    if (child.exitCode === null) child.kill();
  }
  assert.equal(code, 0, `the Python client failed: ${stderr}`);
  const result = JSON.parse(stdout) as {
    echoes: ({ text: string } | { binary: string })[];
    extensions: string[];
  };
  return {
    echoes: result.echoes.map((echo) =>
      "text" in echo ? echo.text : new Uint8Array(Buffer.from(echo.binary, "base64"))
    ),
    extensions: result.extensions,
  };
}

for (const pair of compressingPairs) {
  describe(`${pair.name}: Python websockets with compression`, { skip }, () => {
    for (const configuration of configurations) {
      test(`echoes text and binary, compressed both ways (${configuration.name})`, async () => {
        await withSite(echoSite(configuration.setting), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await runPython(`ws://127.0.0.1:${tap.port}${PATH}`);
            assertEchoed(result.echoes);
            assertCompressedOnTheWire(tap);
            assert.match(result.extensions[0], /^PerMessageDeflate\(/);
          } finally {
            await tap.stop();
          }
        });
      });
    }

    // Separate offers: uWebSockets (Bun.serve) declines server_no_context_takeover
    // offered together with server_max_window_bits.
    const offers: [string, Record<string, unknown>, string][] = [
      [
        "window bits",
        { server_max_window_bits: 10, client_max_window_bits: 9 },
        "remote_no_context_takeover=False, local_no_context_takeover=False, " +
        "remote_max_window_bits=10, local_max_window_bits=9",
      ],
      [
        "no-takeover",
        { server_no_context_takeover: true, client_no_context_takeover: true },
        "remote_no_context_takeover=True, local_no_context_takeover=True, " +
        "remote_max_window_bits=15, local_max_window_bits=15",
      ],
    ];
    for (const [name, offer, agreement] of offers) {
      test(`echoes with its ${name} requests granted`, async () => {
        await withSite(echoSite(true), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await runPython(`ws://127.0.0.1:${tap.port}${PATH}`, offer);
            assertEchoed(result.echoes);
            assertCompressedOnTheWire(tap);
            // Python's view of the agreement: its remote side is the server.
            assert.equal(result.extensions[0], `PerMessageDeflate(${agreement})`);
          } finally {
            await tap.stop();
          }
        });
      });
    }
  });
}

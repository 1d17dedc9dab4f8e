/**
 * The interop matrix: every adapter this runtime hosts against the WebSocket clients of
 * the other ecosystems (Deno's, Bun's, Node's own and `ws`, python-websockets, headless
 * Chromium), each a child process. A cell echoes a non-ASCII text and a 100 KiB binary
 * message and closes with 1000. A client missing from the machine is skipped, saying
 * why. Prints the matrix and saves it for `report.mjs`.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import type { Server } from "../../src/adapters/server.ts";
import { files } from "../../src/files/files.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Child } from "../helpers/child.ts";
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING } from "../helpers/chromium.ts";
import { within } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { type Requirement, skipUnless, unavailable } from "../helpers/required.ts";
import { Echo, type Pair, pairs, runtime, wsUrl } from "../helpers/server.ts";
import { saveResults } from "./results.ts";

const CLIENTS_DIR = join(repoRoot, "tests", "conformance", "clients");
const script = (name: string) => join(CLIENTS_DIR, name);
const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);

/** The longest a client process may run for all its cells. */
const CLIENT_TIMEOUT_MS = 90_000;

/** What a client process printed, and how it ended. */
interface Run {
  lines: Record<string, unknown>[];
  /** All it printed, stdout and stderr. */
  output: string;
  code: number | null;
}

/** Runs a command to its end (killed after `timeoutMs`), collecting JSON lines. */
async function runCommand(command: string[], timeoutMs = CLIENT_TIMEOUT_MS): Promise<Run> {
  const child = new Child(command);
  let code: number | null = null;
  try {
    code = await child.exitCode(timeoutMs);
  } catch {
    await child.kill("SIGKILL");
  }
  const lines = child.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line) as Record<string, unknown>
  );
  return { lines, output: child.output, code };
}

/** The path of an executable on PATH, or `undefined`. */
function onPath(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (folder !== "" && existsSync(join(folder, name))) return join(folder, name);
  }
  return undefined;
}

/** An interop client: how to run it, or why it cannot run here. */
interface ClientSpec {
  name: string;
  /** The command, to which the URLs are appended. */
  command?: string[];
  /** Why the client cannot run on this machine. */
  unavailable?: string;
  /** Whether it takes the site's page URL (a browser) rather than its WebSocket URL. */
  page?: boolean;
}

const node = runtime === "node" ? process.execPath : onPath("node");
const NO_NODE = "node is not on PATH";
const PYTHON = "/usr/bin/python3";

/** Node's own WebSocket client: global since Node 22, behind a flag in 20.10+. */
async function nodeWebSocket(): Promise<ClientSpec> {
  const name = "Node WebSocket";
  if (node === undefined) return { name, unavailable: NO_NODE };
  const probe = "process.exit(typeof WebSocket === 'function' ? 0 : 1)";
  // Node 22+ has the client without a flag; 20.10+ behind --experimental-websocket.
  for (const flags of [[], ["--experimental-websocket"]]) {
    const why = await unavailable({ command: [node, ...flags, "-e", probe], missing: NO_NODE });
    if (why === undefined) {
      return { name, command: [node, ...flags, script("websocket_client.mjs")] };
    }
  }
  return {
    name,
    unavailable: "this Node has no WebSocket client, even with --experimental-websocket " +
      "(20.10+ has)",
  };
}

async function pythonWebsockets(): Promise<ClientSpec> {
  const name = "python-websockets";
  const why = await unavailable(
    { file: PYTHON, missing: `no ${PYTHON}` },
    {
      command: [PYTHON, "-c", "import websockets"],
      missing: `no ${PYTHON}`,
      failing: "python3-websockets is not installed (apt-get install python3-websockets)",
    },
  );
  return why === undefined
    ? { name, command: [PYTHON, script("websockets_client.py")] }
    : { name, unavailable: why };
}

async function chromium(): Promise<ClientSpec> {
  const name = "Chromium";
  if (node === undefined) return { name, unavailable: NO_NODE };
  const why = await unavailable(
    {
      file: join(repoRoot, "node_modules", "playwright-core"),
      missing: "playwright-core is not installed (npm install)",
    },
    { file: CHROMIUM, missing: CHROMIUM_MISSING },
  );
  return why === undefined
    ? {
      name,
      command: [node, script("browser_client.mjs"), CHROMIUM, JSON.stringify(CHROMIUM_ARGS)],
      page: true,
    }
    : { name, unavailable: why };
}

function runtimeClient(name: string, command: string[]): ClientSpec {
  return existsSync(command[0])
    ? { name, command }
    : { name, unavailable: `${command[0]} is missing (npm install)` };
}

const clients: ClientSpec[] = [
  runtimeClient("Deno WebSocket", [
    bin("deno"),
    "run",
    "--no-config",
    "--allow-net",
    script("websocket_client.mjs"),
  ]),
  runtimeClient("Bun WebSocket", [bin("bun"), script("websocket_client.mjs")]),
  node === undefined
    ? { name: "ws", unavailable: NO_NODE }
    : { name: "ws", command: [node, script("websocket_client.mjs"), "--ws"] },
  await nodeWebSocket(),
  await pythonWebsockets(),
  await chromium(),
];

/** One cell's outcome. */
interface Cell {
  pair: string;
  client: string;
  outcome: "passed" | "failed" | "skipped";
  detail: string;
}

describe(`interop on ${runtime}: every adapter against every client`, () => {
  const servers = new Map<Pair, Server>();
  const cells: Cell[] = [];
  const versions: Record<string, string> = {};

  before(async () => {
    for (const client of clients) {
      if (client.unavailable === undefined) continue;
      for (const pair of pairs) {
        cells.push({
          pair: pair.name,
          client: client.name,
          outcome: "skipped",
          detail: client.unavailable,
        });
      }
    }
    for (const pair of pairs) {
      const site = new WebSocketSite(files(CLIENTS_DIR));
      site.addHandler("/echo", Echo);
      servers.set(
        pair,
        await serve(site, { port: 0, hostname: "127.0.0.1", adapter: pair.adapter }),
      );
    }
  });

  after(async () => {
    for (const [pair, server] of servers) {
      await within(server.shutdown(), `${pair.name} shutting down`);
    }
    const mark = { passed: "✓", failed: "✗", skipped: "–" };
    const rows = pairs.map((pair) =>
      `${pair.name.padEnd(20)} ${
        clients.map((client) => {
          const cell = cells.find((cell) => cell.pair === pair.name && cell.client === client.name);
          return `${client.name} ${cell === undefined ? "?" : mark[cell.outcome]}`;
        }).join("  ")
      }`
    );
    const notes = cells.filter((cell) => cell.outcome !== "passed").map((cell) =>
      `  ${cell.pair} × ${cell.client}: ${cell.outcome}, ${cell.detail}`
    );
    console.log([`interop on ${runtime}:`, ...rows, ...new Set(notes)].join("\n"));
    saveResults(`interop-${runtime}`, {
      pairs: pairs.map((pair) => pair.name),
      clients: clients.map((client) => ({ name: client.name, version: versions[client.name] })),
      cells,
    });
  });

  /** The clients CI installs, so that WSPORT_REQUIRE can insist on them. */
  const required: Record<string, Requirement> = {
    "python-websockets": "python",
    Chromium: "chromium",
  };
  for (const client of clients) {
    const requirement = required[client.name];
    const skip = requirement === undefined
      ? client.unavailable ?? false
      : skipUnless(requirement, client.unavailable);
    test(`${client.name} client`, { skip }, async () => {
      const targets = pairs.map((pair) => {
        const server = servers.get(pair)!;
        return {
          pair,
          url: client.page ? `http://127.0.0.1:${server.port}/` : wsUrl(server, "/echo"),
        };
      });
      const run = await runCommand([...client.command!, ...targets.map((target) => target.url)]);
      const missing = run.lines.find((line) => "unavailable" in line)?.unavailable;
      if (typeof missing === "string") {
        for (const { pair } of targets) {
          cells.push({
            pair: pair.name,
            client: client.name,
            outcome: "skipped",
            detail: missing,
          });
        }
        return;
      }
      const named = run.lines.find((line) => "client" in line)?.client;
      if (typeof named === "string") versions[client.name] = named;
      for (const { pair, url } of targets) {
        const line = run.lines.find((line) => line.url === url);
        cells.push({
          pair: pair.name,
          client: client.name,
          outcome: line?.ok === true ? "passed" : "failed",
          detail: String(
            line?.detail ?? `no result (exit ${run.code}): ${run.output.trim().slice(-300)}`,
          ),
        });
      }
      const failed = cells.filter((cell) =>
        cell.client === client.name && cell.outcome === "failed"
      );
      assert.deepEqual(failed, [], `${client.name} failed`);
    });
  }
});

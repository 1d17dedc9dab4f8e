#!/usr/bin/env node
/**
 * The bench: every server under test against a raw-TCP load generator, one Markdown
 * table. See bench/README.md.
 *
 *     node bench/run.mjs                          the whole table (writes bench/RESULTS.md)
 *     node bench/run.mjs --smoke                  one short run per cell, as CI does
 *     node bench/run.mjs --scenario a --server wsport-node-node --server ws-node
 *     node bench/run.mjs --smoke --node tests/nodes/node_modules/node24/bin/node
 *                                                 the Node cells on the running Node and on 24
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { measureCell } from "./cell.mjs";
import { hasTaskset, repoRoot, waitForQuiet } from "./process.mjs";
import { markdown, median } from "./report.mjs";
import { SCENARIOS } from "./scenarios.mjs";
import { runtimeCommand, SERVERS, unavailable } from "./servers.mjs";

const USAGE = `Usage: node bench/run.mjs [options]
  --smoke                 one short run per server and scenario; fails if any echoes nothing
  --scenario <id>         a, b, c (= c64k and c1m), c64k, c1m, d, e, f, g; repeat or comma-separate
  --server <name>         ${SERVERS.map((server) => server.name).join(", ")}
                          (and those --node adds)
  --runs <n>              measured runs per cell (default 3; smoke 1)
  --duration <ms>         length of each run (default 1500; smoke 300)
  --warmup <ms>           unmeasured run before them (default 1000; smoke 300)
  --generators <n>        load-generator processes where the scenario allows (default: one per
                          core besides the server's, at most 4)
  --generator-runtime <r> node or bun (default node)
  --node <binary>         also run every server that runs on Node (wsport-node-node, ws-node, ...)
                          on this Node binary, as <name><major>: wsport-node-node24 against
                          ws-node24; repeat for more (the pinned ones: tests/nodes/node_modules/
                          node22/bin/node, after npm ci --prefix tests/nodes)
  --out <file>            where to write the Markdown (default bench/RESULTS.md for a full run,
                          nowhere for a subset or smoke run; "-" for nowhere)`;

/** Before each cell, wait up to QUIET_WAIT_MS for other processes to use under this. */
const QUIET_PERCENT = 10;
const QUIET_WAIT_MS = 10_000;

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    scenario: { type: "string", multiple: true, default: [] },
    server: { type: "string", multiple: true, default: [] },
    runs: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    generators: { type: "string" },
    "generator-runtime": { type: "string", default: "node" },
    node: { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

/** Splits repeated and comma-separated option values. */
const listOption = (values) => values.flatMap((value) => value.split(",")).filter(Boolean);

/** A Node binary's version, "24.22.3", or `undefined` where it does not run. */
function nodeVersion(path) {
  try {
    return execFileSync(path, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
  } catch {
    return undefined;
  }
}

/**
 * The servers that run on Node, again on each `--node` binary: the load generators stay on
 * the running Node, so only the server's Node differs. `wsport-node-node` on Node 24 is
 * `wsport-node-node24`, its peer `ws-node24`.
 */
const extraNodes = args.node.map((path) => {
  const version = nodeVersion(path);
  if (version === undefined) {
    console.error(`--node ${path}: not a Node binary that runs`);
    process.exit(2);
  }
  return { path: resolve(path), version, suffix: version.split(".")[0] };
});
const onNode = (server) => server.runtime === "node" && server.command[0] === process.execPath;
const renamed = (name, suffix) => name?.replace(/-node$/, `-node${suffix}`);
const servers = [
  // With --node, the running Node's rows say their version too.
  ...SERVERS.map((server) =>
    extraNodes.length > 0 && onNode(server)
      ? { ...server, label: `${server.label} ${process.versions.node}` }
      : server
  ),
  ...extraNodes.flatMap(({ path, version, suffix }) =>
    SERVERS.filter(onNode).map((server) => ({
      ...server,
      name: renamed(server.name, suffix),
      label: `${server.label} ${version}`,
      peer: SERVERS.some((peer) => peer.name === server.peer && onNode(peer))
        ? renamed(server.peer, suffix)
        : server.peer,
      command: [path, ...server.command.slice(1)],
    }))
  ),
];

const scenarioIds = listOption(args.scenario).flatMap((id) => id === "c" ? ["c64k", "c1m"] : [id]);
const unknownScenario = scenarioIds.find((id) => !SCENARIOS.some((s) => s.id === id));
const serverNames = listOption(args.server);
const unknownServer = serverNames.find((name) => !servers.some((s) => s.name === name));
if (unknownScenario || unknownServer || !(args["generator-runtime"] in runtimeCommand)) {
  console.error(
    unknownScenario
      ? `Unknown scenario "${unknownScenario}"`
      : unknownServer
      ? `Unknown server "${unknownServer}"`
      : `Unknown runtime "${args["generator-runtime"]}"`,
  );
  console.error(USAGE);
  process.exit(2);
}

const scenarios = SCENARIOS.filter((s) => scenarioIds.length === 0 || scenarioIds.includes(s.id));
const chosen = servers.filter((s) => serverNames.length === 0 || serverNames.includes(s.name));
const full = scenarioIds.length === 0 && serverNames.length === 0 && !args.smoke &&
  extraNodes.length === 0;
const positive = (text, fallback) => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`Expected a whole number, got "${text}"`);
    process.exit(2);
  }
  return value;
};

const cores = cpus().length;
const generatorCount = positive(args.generators, Math.max(1, Math.min(4, cores - 1)));
const options = {
  runs: Math.max(1, positive(args.runs, args.smoke ? 1 : 3)),
  durationMs: positive(args.duration, args.smoke ? 300 : 1500),
  warmupMs: positive(args.warmup, args.smoke ? 300 : 1000),
  smoke: args.smoke,
  serverCpus: "0",
  generatorCpus: Array.from(
    { length: generatorCount },
    (_, i) => cores > 1 ? String(1 + i % (cores - 1)) : "0",
  ),
  generatorCommand: runtimeCommand[args["generator-runtime"]]("bench/load.mjs").slice(0, -1),
};

/** Runs a tool and returns its first output line, or "unknown". */
function version(command, commandArgs) {
  try {
    return execFileSync(command, commandArgs, { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    return "unknown";
  }
}

const bin = (name) => join(repoRoot, "node_modules", ".bin", name);
const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ??
  "unknown";
const started = performance.now();

if (chosen.some((server) => server.build)) {
  console.error("bench: compiling with tsc -p tsconfig.json");
  try {
    execFileSync(bin("tsc"), ["-p", "tsconfig.json"], { cwd: repoRoot, stdio: "inherit" });
  } catch {
    // tsc still writes its output; a type error elsewhere in the tree must not stop the bench.
    console.error("bench: tsc reported errors (above); running its output anyway");
  }
}

/** @type {import("./report.mjs").Results} */
const results = new Map();
const notes = [];
let failed = 0;
const available = [];
for (const server of chosen) {
  results.set(server.name, new Map());
  const missing = unavailable(server);
  if (missing === undefined) {
    available.push(server);
  } else {
    notes.push(`- ${server.name} skipped: ${missing}.`);
    console.error(`bench: ${server.name} skipped: ${missing}`);
  }
}
// Scenario by scenario, so that a wsport server and its peer are measured minutes apart
// at most, on the same machine: a virtual machine's CPU share can change over a run.
for (const scenario of scenarios) {
  for (const server of available) {
    const cells = results.get(server.name);
    if (!server.websocket && !scenario.tcp) continue;
    const runs = server.scenarios?.includes(scenario.id) ?? !scenario.optIn;
    if (!runs) continue;
    if (!args.smoke) {
      const busy = await waitForQuiet(QUIET_PERCENT, QUIET_WAIT_MS);
      if (busy >= QUIET_PERCENT) {
        console.error(`bench: the machine is busy (${Math.round(busy)}% of a core); going on`);
      }
    }
    const cellStarted = performance.now();
    try {
      const cell = await measureCell(server, scenario, options);
      cells.set(scenario.id, cell);
      const summary = scenario.metrics.map((metric) => {
        const values = cell.windows.map((window) => metric.value(window));
        const runs = values.map((value) => value.toPrecision(3)).join(" ");
        return `${metric.label} ${median(values).toPrecision(4)} [${runs}]`;
      }).join(", ");
      console.error(
        `bench: ${server.name} ${scenario.id}: ${summary} ` +
          `(${((performance.now() - cellStarted) / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      failed++;
      cells.set(scenario.id, { error: error.message });
      console.error(`bench: ${server.name} ${scenario.id}: FAILED: ${error.message}`);
    }
  }
}

const command = ["node", "bench/run.mjs", ...process.argv.slice(2)].join(" ");
const via = process.env.npm_lifecycle_event === "bench" ? " (via `npm run bench`)" : "";
const header = [
  `- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
  `- Machine: ${cores} CPUs (nproc), ${cpuModel}, Linux ${version("uname", ["-r"])}`,
  `- Runtimes: Node ${process.version}, ${version(bin("deno"), ["--version"])}, Bun ${
    version(bin("bun"), ["--version"])
  }${extraNodes.map(({ version }) => `, Node v${version} (--node, servers only)`).join("")}`,
  `- Command: \`${command}\`${via}`,
  `- Each cell: ${options.warmupMs > 0 ? `a ${options.warmupMs} ms warm-up, then ` : ""}` +
  `the median of ${options.runs} run${options.runs > 1 ? "s" : ""} of ${options.durationMs} ms ` +
  `(scenario d: ${options.runs} fresh server${options.runs > 1 ? "s" : ""}); a fresh server ` +
  `per cell.`,
  `- Pinning: ${
    hasTaskset
      ? `server on core ${options.serverCpus}, load generator${generatorCount > 1 ? "s" : ""} (${
        args["generator-runtime"]
      }) on core ${[...new Set(options.generatorCpus)].join(", ")}`
      : "none (taskset not found)"
  }.`,
  `- Took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
];
const report = markdown({ results, servers: chosen, header, notes });
console.log(report);
const out = args.out ?? (full ? join(repoRoot, "bench", "RESULTS.md") : "-");
if (out !== "-") {
  writeFileSync(out, report);
  try {
    // The tables as deno fmt lays them out, so the checked-in file stays fmt-clean.
    execFileSync(bin("deno"), ["fmt", "--quiet", out], { cwd: repoRoot, stdio: "ignore" });
  } catch {
    console.error("bench: deno fmt could not format the report");
  }
  console.error(`bench: wrote ${relative(process.cwd(), out)}`);
}
if (failed > 0) {
  console.error(`bench: ${failed} cell${failed > 1 ? "s" : ""} failed`);
  process.exit(1);
}

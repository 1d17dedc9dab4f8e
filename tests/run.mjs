#!/usr/bin/env node
// Runs the whole test suite on Node, Deno and Bun and prints one closing line,
// "N passed, N failed", summed over the three runtimes.
//
// Usage: node tests/run.mjs [--runtime node|deno|bun]... [path filter]
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

const args = process.argv.slice(2);
const runtimes = [];
let filter = "";
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runtime") runtimes.push(args[++i]);
  else filter = args[i];
}
if (runtimes.length === 0) runtimes.push("node", "deno", "bun");

// Terminal colour codes, stripped before the runners' summaries are read.
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
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * Removes compiled files whose source is gone, so a deleted test does not run on. (The
 * build folder itself is kept: several runs may share it at once.)
 */
function pruneStaleOutput(directory) {
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

const lastNumber = (output, pattern) => {
  const matches = [...output.matchAll(pattern)];
  return matches.length === 0 ? undefined : Number(matches.at(-1)[1]);
};

const target = (base) => (filter === "" ? base : join(base, filter));

const suites = {
  async node() {
    const compiled = await run(bin("tsc"), ["-p", "tsconfig.json"]);
    if (compiled.code !== 0) return { passed: 0, failed: 1, note: "tsc failed" };
    pruneStaleOutput(join(root, ".build"));
    const result = await run(process.execPath, [
      "--test",
      "--test-reporter=tap",
      ...testFiles(target(".build/tests")),
    ]);
    return {
      passed: lastNumber(result.output, /^# pass (\d+)/gm),
      failed: lastNumber(result.output, /^# fail (\d+)/gm),
      code: result.code,
    };
  },
  async deno() {
    const result = await run(bin("deno"), ["test", "--allow-all", target("tests")]);
    const summary = [...result.output.matchAll(/(?:ok|FAILED) \| (\d+) passed.*?\| (\d+) failed/g)]
      .at(-1);
    return {
      passed: summary ? Number(summary[1]) : undefined,
      failed: summary ? Number(summary[2]) : undefined,
      code: result.code,
    };
  },
  async bun() {
    const result = await run(bin("bun"), ["test", "--timeout", "60000", target("tests")]);
    return {
      passed: lastNumber(result.output, /^\s*(\d+) pass$/gm),
      failed: lastNumber(result.output, /^\s*(\d+) fail$/gm) ?? 0,
      code: result.code,
    };
  },
};

let passed = 0;
let failed = 0;
const lines = [];
for (const runtime of runtimes) {
  if (!(runtime in suites)) throw new Error(`Unknown runtime "${runtime}"`);
  if (runtime !== "node" && !existsSync(bin(runtime))) {
    throw new Error(`${runtime} is not installed: run npm install first`);
  }
  console.log(`\n=== ${runtime} ===`);
  const result = await suites[runtime]();
  // A runner that exits non-zero without counting a failure still failed.
  const runtimeFailed = (result.failed ?? 0) + (result.code !== 0 && !result.failed ? 1 : 0) +
    (result.passed === undefined && result.failed === undefined ? 1 : 0);
  passed += result.passed ?? 0;
  failed += runtimeFailed;
  lines.push(`${runtime}: ${result.passed ?? 0} passed, ${runtimeFailed} failed`);
}
console.log("\n" + lines.join("\n"));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

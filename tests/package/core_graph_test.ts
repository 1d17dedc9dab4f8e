/**
 * `wsport/core` loads alone: its import graph, walked from `core.ts` through every
 * relative import, holds no `node:` module, no package, no adapter and nothing of the
 * site layer. A static walk reads the same graph on every runtime; on Deno, `deno info`
 * gives the graph as Deno resolves it; the packed package is also loaded on Node with a
 * hook that refuses built-in modules (`pack_test.ts`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import process from "node:process";
import { repoRoot } from "../helpers/paths.ts";

/**
 * `import type` and `export type` statements, and `import { type A, type B }`: erased
 * when the code runs, so they load nothing.
 */
const TYPE_ONLY =
  /\b(?:import|export)\s+(?:type\s+[^;"'()]*?|\{(?:\s*type\s+[\w$]+\s*,?)+\})\s*from\s*["'][^"']+["']\s*;?/g;

/**
 * Every module specifier a source imports or re-exports from, dynamic imports too; with
 * `runtime`, only those loaded when the code runs (no type-only import).
 */
function specifiers(code: string, runtime = false): string[] {
  let withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  if (runtime) withoutComments = withoutComments.replace(TYPE_ONLY, "");
  return [
    ...withoutComments.matchAll(/\b(?:import|export)\b[^;"'()]*?\bfrom\s*["']([^"']+)["']/g),
    ...withoutComments.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...withoutComments.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((match) => match[1]);
}

/**
 * The repository files reachable from `entry`, and every import that is not a file; with
 * `runtime`, through the imports loaded when the code runs only.
 */
function importGraph(entry: string, read: (path: string) => string, runtime = false) {
  const files = new Set<string>();
  const outside: string[] = [];
  const pending = [join(repoRoot, entry)];
  while (pending.length > 0 && files.size < 1000) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of specifiers(read(file), runtime)) {
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        pending.push(join(dirname(file), specifier));
      } else {
        outside.push(`${relative(repoRoot, file)} imports ${specifier}`);
      }
    }
  }
  return {
    files: [...files].map((file) => relative(repoRoot, file).split(sep).join("/")).sort(),
    outside,
  };
}

const readSource = (path: string) => readFileSync(path, "utf8");

test("core.ts imports only src/core, and no node: module or package", () => {
  const { files, outside } = importGraph("core.ts", readSource);
  assert.deepEqual(outside, []);
  const foreign = files.filter((file) => file !== "core.ts" && !file.startsWith("src/core/"));
  assert.deepEqual(foreign, [], "files outside src/core/");
  assert.ok(files.includes("src/core/connection.ts"), files.join(", "));
});

test("the walk finds node: modules, packages and adapters, through dynamic imports too", () => {
  const sources: Record<string, string> = {
    "core.ts": `export { a } from "./src/core/a.ts";\nimport "./side.ts";`,
    "src/core/a.ts": `import type { X } from "../adapters/x.ts";\nconst y = import("./b.ts");`,
    "src/core/b.ts": `import { readFile } from "node:fs/promises";\nimport ws from "ws";`,
    "src/adapters/x.ts": `// import "node:http";`,
    "side.ts": ``,
  };
  const { files, outside } = importGraph(
    "core.ts",
    (path) => sources[relative(repoRoot, path).split(sep).join("/")],
  );
  assert.deepEqual(files, [
    "core.ts",
    "side.ts",
    "src/adapters/x.ts",
    "src/core/a.ts",
    "src/core/b.ts",
  ]);
  assert.deepEqual(outside, ["src/core/b.ts imports node:fs/promises", "src/core/b.ts imports ws"]);
});

test("mod.ts loads no adapter until serve() runs: none is in its static graph", () => {
  const sources = (path: string) =>
    // serve() imports each adapter with import(): leave those out of the static graph.
    readSource(path).replace(/\bimport\s*\(\s*["'][^"']+["']\s*\)/g, "undefined");
  const { files, outside } = importGraph("mod.ts", sources);
  for (const adapter of ["src/adapters/node.ts", "src/adapters/socket_link.ts"]) {
    assert.ok(!files.includes(adapter), `${adapter} is not loaded by mod.ts`);
  }
  const nodeModules = outside.filter((line) => / imports node:(http|net|zlib|crypto)$/.test(line));
  assert.deepEqual(nodeModules, [], "the Node adapter's node: modules");
});

test("the run-time walk leaves out type-only imports and follows the others", () => {
  const sources: Record<string, string> = {
    "mod.ts": [
      `import type { A } from "./a.ts";`,
      `export type { B } from "./b.ts";`,
      `import { type C, type D } from "./c.ts";`,
      `import { type E, f } from "./e.ts";`,
      `export { g } from "./g.ts";`,
    ].join("\n"),
    "e.ts": `import { readFile } from "node:fs/promises";`,
    "g.ts": ``,
  };
  const { files, outside } = importGraph(
    "mod.ts",
    (path) => sources[relative(repoRoot, path).split(sep).join("/")] ?? "",
    true,
  );
  assert.deepEqual(files, ["e.ts", "g.ts", "mod.ts"]);
  assert.deepEqual(outside, ["e.ts imports node:fs/promises"]);
});

test("mod.ts loads no node: module when imported: files() and serve() load theirs later", () => {
  const sources = (path: string) =>
    readSource(path).replace(/\bimport\s*\(\s*["'][^"']+["']\s*\)/g, "undefined");
  const { files, outside } = importGraph("mod.ts", sources, true);
  assert.deepEqual(outside, [], "imports of node: modules or packages");
  // site.fetch upgrades on Deno and Bun and site.websocket is Bun's handler object, at
  // once: their adapters load with the site. Nothing of the Node adapter or the files'
  // file-system side does.
  for (
    const file of [
      "src/adapters/node.ts",
      "src/adapters/node_http.ts",
      "src/adapters/socket_link.ts",
      "src/files/file_server.ts",
    ]
  ) {
    assert.ok(!files.includes(file), `${file} is not loaded by mod.ts`);
  }
});

test("deno info: core.ts's module graph is files of the repository only", {
  skip: "Deno" in globalThis ? false : "deno info runs on Deno",
}, () => {
  const info = JSON.parse(
    execFileSync(process.execPath, ["info", "--json", join(repoRoot, "core.ts")], {
      cwd: repoRoot,
      encoding: "utf8",
    }),
  ) as { modules: { specifier: string }[] };
  const specifiers = info.modules.map((module) => module.specifier);
  assert.ok(specifiers.length > 5, specifiers.join(", "));
  assert.deepEqual(specifiers.filter((specifier) => !specifier.startsWith("file:")), []);
});

/**
 * The export snapshot: each entry point exports exactly the names in
 * `entry_points.ts`, named one by one (no `export *`), both as its source says and as
 * the module loaded in this runtime shows. Adding or removing a name fails here until
 * the snapshot (and the docs) say so too.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../helpers/paths.ts";
import { ENTRY_POINTS, exportedNames } from "./entry_points.ts";

/** The entry point's module as this runtime runs it: the source, or the compiled copy. */
function moduleUrl(file: string): string {
  const compiled = import.meta.url.endsWith(".js");
  const path = compiled
    ? join(repoRoot, ".build", file.replace(/\.ts$/, ".js"))
    : join(repoRoot, file);
  return pathToFileURL(path).href;
}

for (const entry of ENTRY_POINTS) {
  test(`${entry.specifier} (${entry.file}) names its exports, and they are the snapshot's`, () => {
    const source = readFileSync(join(repoRoot, entry.file), "utf8");
    const { values, types, other } = exportedNames(source);
    assert.deepEqual(other, [], "every export is a named re-export");
    assert.deepEqual(values, [...entry.values].sort(), "values");
    assert.deepEqual(types, [...entry.types].sort(), "types");
  });

  test(`${entry.specifier} loads with exactly the snapshot's values`, async () => {
    const loaded = await import(moduleUrl(entry.file));
    assert.deepEqual(Object.keys(loaded).sort(), [...entry.values].sort());
  });
}

test("package.json and deno.json map the same entry points to the same modules", () => {
  const npm = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  const deno = JSON.parse(readFileSync(join(repoRoot, "deno.json"), "utf8"));
  for (const entry of ENTRY_POINTS) {
    const subpath = entry.specifier.replace(/^wsport/, ".");
    const built = `./dist/${entry.file.replace(/\.ts$/, "")}`;
    assert.deepEqual(npm.exports[subpath], {
      types: `${built}.d.ts`,
      import: `${built}.js`,
      default: `${built}.js`,
    }, `package.json exports["${subpath}"]`);
    assert.equal(deno.exports[subpath], `./${entry.file}`, `deno.json exports["${subpath}"]`);
  }
  const npmSubpaths = Object.keys(npm.exports).filter((key) => key !== "./package.json");
  assert.equal(npmSubpaths.length, ENTRY_POINTS.length, "no other npm entry point");
  assert.equal(Object.keys(deno.exports).length, ENTRY_POINTS.length, "no other JSR entry point");
});

test("the export reader sees export *, declarations and renames", () => {
  const read = exportedNames(
    `/** doc: export { Nope } from "x"; */
     export { a, type B, c as d } from "./x.ts";
     export type { E } from "./y.ts";
     export * from "./z.ts";
     export const f = 1;`,
  );
  assert.deepEqual(read.values, ["a", "d"]);
  assert.deepEqual(read.types, ["B", "E"]);
  assert.deepEqual(read.other, ['export * from "./z.ts"', "export const f = 1"]);
});

const onDeno = "Deno" in globalThis ? false : "deno doc runs on Deno";

test("deno doc: every entry point's every symbol is documented, its types all public", {
  skip: onDeno,
}, () => {
  // Exits non-zero, listing them, for a missing JSDoc or a reference to an unexported type.
  execFileSync(process.execPath, ["doc", "--lint", ...ENTRY_POINTS.map((entry) => entry.file)], {
    cwd: repoRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
});

test("deno doc: the main entry's reference shows at most 30 symbols, the snapshot's", {
  skip: onDeno,
}, () => {
  const doc = JSON.parse(
    execFileSync(process.execPath, ["doc", "--json", "mod.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
    }),
  ) as { nodes: Record<string, { symbols: { name: string }[] }> };
  const names = Object.values(doc.nodes).flatMap((node) => node.symbols.map(({ name }) => name));
  const main = ENTRY_POINTS[0];
  assert.deepEqual(names.sort(), [...main.values, ...main.types].sort());
  assert.ok(names.length <= 30, `${names.length} symbols`);
});

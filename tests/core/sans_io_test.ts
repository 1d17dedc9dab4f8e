import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/paths.ts";

const sourceDirectory = join(repoRoot, "src", "core");

const FORBIDDEN = [
  { pattern: /\bDeno\./, what: "Deno." },
  { pattern: /\bBun\./, what: "Bun." },
  { pattern: /from\s+["']node:/, what: "a node: import" },
  { pattern: /\brequire\(/, what: "require()" },
  { pattern: /\bprocess\./, what: "process." },
  { pattern: /\b(setTimeout|setInterval|queueMicrotask)\(/, what: "a timer" },
  { pattern: /\bDate\.now\(|\bperformance\.now\(/, what: "a clock" },
];

test("src/core imports nothing runtime-specific and owns no timer or clock", () => {
  const files = readdirSync(sourceDirectory).filter((name) => name.endsWith(".ts"));
  assert.ok(files.length >= 10, `expected the core's files, found ${files.join(", ")}`);
  for (const name of files) {
    const code = readFileSync(join(sourceDirectory, name), "utf8")
      // Doc comments may show how an adapter calls the core.
      .replace(/\/\*\*[\s\S]*?\*\//g, "");
    for (const { pattern, what } of FORBIDDEN) {
      assert.doesNotMatch(code, pattern, `src/core/${name} uses ${what}`);
    }
  }
});

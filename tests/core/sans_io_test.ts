/**
 * The core stays sans-I/O and web-standard: a scan of `src/core/`'s sources for anything
 * runtime-specific, any timer or clock, and any import from outside the core.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/paths.ts";

const sourceDirectory = join(repoRoot, "src", "core");

const FORBIDDEN = [
  { pattern: /\bDeno\b/, what: "Deno" },
  { pattern: /\bBun\b/, what: "Bun" },
  { pattern: /\bprocess\b/, what: "process" },
  { pattern: /\bBuffer\b/, what: "Buffer" },
  { pattern: /\brequire\s*\(/, what: "require()" },
  { pattern: /\bimport\s*\(/, what: "a dynamic import" },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, what: "a timer" },
  { pattern: /\bDate\.now\b|\bnew Date\b|\bperformance\b/, what: "a clock" },
  { pattern: /\b(fetch|WebSocket|Worker)\s*\(/, what: "I/O" },
];

/** Every module specifier a source imports or re-exports from. */
function specifiers(code: string): string[] {
  return [...code.matchAll(/\b(?:import|export)\b[^;"']*?\bfrom\s*["']([^"']+)["']/g)]
    .map((match) => match[1]);
}

/** What is wrong with one core source: an empty list when nothing is. */
function violations(name: string, source: string): string[] {
  // Comments may mention runtimes and show how an adapter calls the core.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  const found = FORBIDDEN.filter(({ pattern }) => pattern.test(code))
    .map(({ what }) => `${name} uses ${what}`);
  for (const specifier of specifiers(code)) {
    if (!/^\.\/[\w/]+\.ts$/.test(specifier)) {
      found.push(`${name} imports "${specifier}", which is not a core module`);
    }
  }
  return found;
}

test("src/core imports only its own modules and owns no runtime API, timer or clock", () => {
  const files = readdirSync(sourceDirectory, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(".ts"));
  assert.ok(files.length >= 10, `expected the core's files, found ${files.join(", ")}`);
  for (const name of files) {
    const source = readFileSync(join(sourceDirectory, name), "utf8");
    assert.deepEqual(violations(`src/core/${name}`, source), []);
  }
});

test("the src/core scan finds each kind of violation", () => {
  const samples: Record<string, string> = {
    'import { readFile } from "node:fs";': 'imports "node:fs", which is not a core module',
    'import fs from "fs";': 'imports "fs", which is not a core module',
    'export { Session } from "../site/session.ts";':
      'imports "../site/session.ts", which is not a core module',
    "const deno = globalThis.Deno;": "uses Deno",
    "Bun.serve({});": "uses Bun",
    "const bytes = Buffer.from([]);": "uses Buffer",
    'const zlib = await import("node:zlib");': "uses a dynamic import",
    "setTimeout(tick, 10);": "uses a timer",
    "const now = performance.now();": "uses a clock",
    "process.exit(1);": "uses process",
  };
  for (const [code, problem] of Object.entries(samples)) {
    assert.deepEqual(violations("sample.ts", code), [`sample.ts ${problem}`], code);
  }
  const clean = [
    'import { Opcode } from "./constants.ts";',
    "// An adapter calls Deno.upgradeWebSocket, then setTimeout(tick).",
    "/** `performance.now()` is the adapter's clock. */",
    'const url = "https://example.com/path";',
  ].join("\n");
  assert.deepEqual(violations("clean.ts", clean), []);
});

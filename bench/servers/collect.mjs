/**
 * Preloaded into every server the bench starts (`--import` on Node, `--preload` on Deno
 * and Bun): a line `gc` on stdin collects all garbage at once, then the server prints
 * `{"collected":true,"heapBytes":N}`. Scenario (d) asks for it before each RSS reading,
 * so that garbage the handshakes left (which each runtime collects when it pleases) is
 * not counted as memory the connections hold. Needs `--expose-gc` on Node and Deno; Bun
 * has `Bun.gc`.
 * @module
 */

import process from "node:process";

/** Collects everything it can, the runtime's own way; false where it cannot. */
function collect() {
  const bun = /** @type {{ Bun?: { gc(full: boolean): void } }} */ (globalThis).Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return true;
  }
  const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
  if (gc === undefined) return false;
  // Twice: the first pass may leave what finalizers freed to the second.
  gc();
  gc();
  return true;
}

let pending = "";
/** Answers each `gc` line in `text`, keeping a partial line for the next. */
function onInput(text) {
  pending += text;
  let newline;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (line !== "gc") continue;
    const collected = collect();
    console.log(JSON.stringify({ collected, heapBytes: process.memoryUsage().heapUsed }));
  }
}

const deno = /** @type {{ Deno?: { unrefTimer(id: number): void } }} */ (globalThis).Deno;
if (deno !== undefined) {
  // Deno runs a preloaded module's event loop until it is idle before the main module:
  // reading stdin from here would hold the server back. An unref'd timer starts it once
  // the server keeps the loop alive.
  const timer = setTimeout(() => process.stdin.setEncoding("utf8").on("data", onInput), 0);
  deno.unrefTimer(/** @type {number} */ (/** @type {unknown} */ (timer)));
} else {
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", onInput);
  // Reading stdin must not keep a server alive that would otherwise exit.
  process.stdin.unref?.();
}

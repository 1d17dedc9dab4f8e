/**
 * Compares two bench reports by their ratios to peers: for every wsport row and column
 * that has a ratio in both (the "(N×)" of the Results and the Server CPU per unit of
 * work tables), the new ratio over the old one, listing those that dropped by more than
 * a threshold. Ratios, not rates: each was measured against its peer in the same run, so
 * a slower or busier machine moves both sides alike.
 *
 *     git show 0f4ec49:bench/RESULTS.md > /tmp/before.md
 *     node bench/compare.mjs /tmp/before.md bench/RESULTS.md            # drops past 10%
 *     node bench/compare.mjs /tmp/before.md bench/RESULTS.md --all      # every ratio
 *     node bench/compare.mjs /tmp/before.md bench/RESULTS.md --threshold 0.2
 *
 * A cell the new run marked ‼ (other load on the machine that never went quiet) is
 * marked so in the listing. Exits with 1 when a ratio dropped past the threshold.
 * @module
 */

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threshold: { type: "string", default: "0.1" },
    all: { type: "boolean", default: false },
  },
});
if (positionals.length !== 2) {
  console.error("usage: node bench/compare.mjs <before.md> <after.md> [--threshold 0.1] [--all]");
  process.exit(2);
}
const threshold = Number(values.threshold);
if (!(threshold > 0 && threshold < 1)) {
  console.error(`--threshold must be a fraction between 0 and 1, got ${values.threshold}`);
  process.exit(2);
}

/**
 * The Markdown tables under each `## ` heading of a report: heading -> rows of cells,
 * the header row first.
 * @param {string} text
 * @returns {Map<string, string[][]>}
 */
function tables(text) {
  const found = new Map();
  let heading = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("## ")) heading = line.slice(3).trim();
    else if (line.startsWith("|") && !/^\|\s*-/.test(line)) {
      const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
      if (!found.has(heading)) found.set(heading, []);
      found.get(heading).push(cells);
    }
  }
  return found;
}

/**
 * Every ratio of a report's two ratio tables: "table / column / server" -> ratio.
 * @param {Map<string, string[][]>} report
 * @returns {Map<string, number>}
 */
function ratios(report) {
  const found = new Map();
  for (const name of ["Results", "Server CPU per unit of work"]) {
    const [header, ...rows] = report.get(name) ?? [];
    for (const row of rows) {
      row.forEach((cell, column) => {
        const match = /\(([\d.]+)×\)/.exec(cell);
        if (match !== null) found.set(`${name} | ${header[column]} | ${row[0]}`, Number(match[1]));
      });
    }
  }
  return found;
}

/**
 * The cells the run marked ‼: "column | server" -> true, the columns named as in the CPU
 * table (`(a)`, `(c64k)`, ...).
 * @param {Map<string, string[][]>} report
 * @returns {Set<string>}
 */
function noisy(report) {
  const found = new Set();
  const [header, ...rows] = report.get("CPU during the measured runs") ?? [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      if (cell.includes("‼")) found.add(`${header[column]} | ${row[0]}`);
    });
  }
  return found;
}

/** The CPU table's column for a ratio's column: "(c) 64 KiB MB/s" -> "(c64k)". */
function scenarioColumn(column) {
  const id = /^\(([a-z])\)/.exec(column)?.[1] ?? "";
  if (id !== "c") return `(${id})`;
  return column.includes("64 KiB") ? "(c64k)" : "(c1m)";
}

const [before, after] = positionals.map((path) => tables(readFileSync(path, "utf8")));
const old = ratios(before);
const fresh = ratios(after);
const marked = noisy(after);
let drops = 0;
let compared = 0;
for (const [key, ratio] of fresh) {
  const previous = old.get(key);
  if (previous === undefined) continue;
  compared++;
  const change = ratio / previous;
  const dropped = change < 1 - threshold;
  if (dropped) drops++;
  if (!dropped && !values.all) continue;
  const [table, column, server] = key.split(" | ");
  const flag = marked.has(`${scenarioColumn(column)} | ${server}`) ? " ‼" : "";
  console.log(
    `${dropped ? "DROP" : "    "} ${server} / ${column} (${table}): ` +
      `${previous}× -> ${ratio}× (${change.toFixed(2)})${flag}`,
  );
}
console.log(`${compared} ratios compared, ${drops} dropped by more than ${threshold * 100}%`);
process.exit(drops > 0 ? 1 : 0);

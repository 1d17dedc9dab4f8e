/**
 * The bench's report: medians, ratios to peers, the targets, as Markdown.
 * @module
 */

import { METRICS, SCENARIOS } from "./scenarios.mjs";
import { TARGETS } from "./targets.mjs";

/**
 * The median of some numbers (the mean of the middle two for an even count).
 * @param {number[]} values
 * @returns {number}
 */
export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * What was measured: per server name, per scenario id, the windows or the error.
 * @typedef {Map<string, Map<string, { windows?: object[], error?: string }>>} Results
 */

/** The median of one metric for a server, or NaN. */
function metricValue(results, server, metric) {
  const scenario = SCENARIOS.find((s) => s.metrics.includes(metric));
  const windows = results.get(server)?.get(scenario.id)?.windows;
  return windows === undefined ? NaN : median(windows.map((window) => metric.value(window)));
}

/** How many times better `server` is than `peer` on a metric (see scenarios.mjs). */
export function ratio(results, server, peer, metric) {
  const mine = metricValue(results, server, metric);
  const theirs = metricValue(results, peer, metric);
  return metric.better === "higher" ? mine / theirs : theirs / mine;
}

const format = {
  count: (value) =>
    value >= 1e6
      ? `${(value / 1e6).toFixed(2)}M`
      : value >= 1e4
      ? `${Math.round(value / 1e3)}k`
      : String(Math.round(value)),
  integer: (value) => String(Math.round(value)),
  decimal: (value) => value.toFixed(1),
};

const table = (header, rows) =>
  [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");

/**
 * Builds the whole report.
 *
 * @param {object} report
 * @param {Results} report.results
 * @param {import("./servers.mjs").ServerSpec[]} report.servers The servers run, in order.
 * @param {string[]} report.header Lines that describe the run (date, machine, command).
 * @param {string[]} report.notes Lines after the tables.
 * @returns {string} Markdown.
 */
export function markdown({ results, servers, header, notes }) {
  const names = new Set(servers.map((server) => server.name));
  const cellOf = (server, metric) => {
    const scenario = SCENARIOS.find((s) => s.metrics.includes(metric));
    const cell = results.get(server.name)?.get(scenario.id);
    if (cell === undefined) return "—";
    if (cell.error !== undefined) return "failed";
    let text = format[metric.format](metricValue(results, server.name, metric));
    if (server.peer !== undefined && names.has(server.peer)) {
      const r = ratio(results, server.name, server.peer, metric);
      if (Number.isFinite(r)) text += ` (${r.toFixed(2)}×)`;
    }
    return text;
  };
  const main = table(
    ["Server", ...METRICS.map((metric) => metric.label)],
    servers.map((server) => [server.label, ...METRICS.map((metric) => cellOf(server, metric))]),
  );

  const loaded = SCENARIOS.filter((scenario) => scenario.kind !== "idle");
  const cpu = table(
    ["Server", ...loaded.map((scenario) => `(${scenario.id})`)],
    servers.map((server) => [
      server.label,
      ...loaded.map((scenario) => {
        const windows = results.get(server.name)?.get(scenario.id)?.windows;
        if (windows === undefined) return "—";
        const [serverCpu, generatorCpu, otherCpu] = [
          "serverCpuPercent",
          "generatorCpuPercent",
          "otherCpuPercent",
        ].map((key) => Math.round(median(windows.map((window) => window[key]))));
        const warning = (generatorCpu >= 90 ? " ⚠" : "") + (otherCpu > 15 ? " ‼" : "");
        return `${serverCpu} / ${generatorCpu} / ${otherCpu}${warning}`;
      }),
    ]),
  );

  const costed = SCENARIOS.filter((scenario) => scenario.cost !== undefined);
  const costOf = (name, scenario) => {
    const windows = results.get(name)?.get(scenario.id)?.windows;
    if (windows === undefined) return NaN;
    return median(windows.map((window) => window.serverCpuMs * 1000 / scenario.cost.units(window)));
  };
  const costs = table(
    ["Server", ...costed.map((scenario) => scenario.cost.label)],
    servers.map((server) => [
      server.label,
      ...costed.map((scenario) => {
        const cost = costOf(server.name, scenario);
        if (!Number.isFinite(cost)) return "—";
        let text = cost >= 100 ? String(Math.round(cost)) : cost.toPrecision(2);
        if (server.peer !== undefined && names.has(server.peer)) {
          const r = costOf(server.peer, scenario) / cost;
          if (Number.isFinite(r)) text += ` (${r.toFixed(2)}×)`;
        }
        return text;
      }),
    ]),
  );

  const runs = table(
    ["Server", ...METRICS.map((metric) => metric.label)],
    servers.map((server) => [
      server.label,
      ...METRICS.map((metric) => {
        const scenario = SCENARIOS.find((s) => s.metrics.includes(metric));
        const windows = results.get(server.name)?.get(scenario.id)?.windows;
        if (windows === undefined) return "—";
        return windows.map((window) => format[metric.format](metric.value(window))).join(" ");
      }),
    ]),
  );

  const targetRows = [];
  for (const target of TARGETS) {
    if (!names.has(target.server) || !names.has(target.peer)) continue;
    const metric = METRICS.find((m) => m.key === target.metric);
    const scenario = SCENARIOS.find((s) => s.metrics.includes(metric));
    const cells = [target.server, target.peer].map((name) => results.get(name)?.get(scenario.id));
    if (cells.some((cell) => cell === undefined)) continue;
    const r = ratio(results, target.server, target.peer, metric);
    const verdict = !Number.isFinite(r) ? "not measured" : r >= target.min ? "holds" : "misses";
    targetRows.push([
      String(target.issue),
      target.server,
      target.peer,
      metric.label,
      `≥ ${target.min.toFixed(2)}×`,
      Number.isFinite(r) ? `${r.toFixed(2)}×` : "—",
      verdict,
    ]);
  }

  const failures = [];
  for (const [server, cells] of results) {
    for (const [scenario, cell] of cells) {
      if (cell.error !== undefined) failures.push(`- ${server} (${scenario}): ${cell.error}`);
    }
  }

  return [
    "# wsport bench results",
    "",
    ...header,
    "",
    "## Results",
    "",
    main,
    "",
    "Each cell is the median of the runs. In parentheses, for a wsport row: how many times " +
    "better it is than its peer on the same runtime, measured in the same run (wsport ÷ " +
    "peer for rates, peer ÷ wsport for latency, memory and wire bytes; above 1 means wsport " +
    "is better). Peers: the Node adapter on Node against ws (without bufferutil), the Node " +
    "adapter on Deno and the Deno.serve adapter against native Deno, the Node adapter on Bun " +
    "and the Bun.serve adapter against native Bun. In (g) each side compresses: wsport " +
    "against ws and native Bun with permessage-deflate; the Node adapter on Deno has no peer, " +
    "as Deno's own server cannot compress.",
    "",
    "## CPU during the measured runs",
    "",
    "Server / load generator (the busiest process) / everything else on the machine, in % " +
    "of one core. ⚠ marks a generator at 90% or more, where the number may measure the " +
    "generator rather than the server; ‼ marks other load above 15% (a window with that " +
    "much is measured again, up to three times, so ‼ means it never went quiet). " +
    "Loopback TCP work done in softirq is charged to whichever process is on the core.",
    "",
    cpu,
    "",
    "## Server CPU per unit of work",
    "",
    "The server's CPU time (all its threads, from `/proc`) divided by the work done, median " +
    "of the runs: a measure of efficiency that other load on the machine disturbs less than " +
    "a rate does. In parentheses for wsport rows: peer ÷ wsport (above 1 means wsport " +
    "spends less).",
    "",
    costs,
    "",
    ...(targetRows.length === 0 ? [] : [
      "## Targets (issues 7 and 18)",
      "",
      table(["issue", "wsport", "peer", "metric", "target", "measured", "verdict"], targetRows),
      "",
    ]),
    ...(failures.length === 0 ? [] : ["## Failures", "", ...failures, ""]),
    "## Every run",
    "",
    "The values each median was taken from, in the order they were measured.",
    "",
    runs,
    "",
    "## Scenarios",
    "",
    ...SCENARIOS.map((scenario) => `- (${scenario.id}) ${scenario.title}`),
    "",
    ...notes,
  ].join("\n") + "\n";
}

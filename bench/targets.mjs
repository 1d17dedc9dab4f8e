/**
 * The performance targets issues 7 and 18 set, as data: each is a minimum ratio of a
 * wsport server to a peer on one metric ("times better", see scenarios.mjs).
 * @module
 */

import { SCENARIOS } from "./scenarios.mjs";

/**
 * @typedef {object} Target
 * @property {string} server
 * @property {string} peer
 * @property {string} metric A metric key.
 * @property {number} min The ratio the issue asks for.
 * @property {number} issue The issue that asks for it.
 */

/** The judged metrics of the scenarios every server runs (not the opt-in ones). */
const COMMON = SCENARIOS.filter((scenario) => !scenario.optIn)
  .flatMap((s) => s.metrics)
  .filter((metric) => metric.judged !== false);

/**
 * Every common metric. Broadcast (f) is judged on the `wsport-topics-*` server of the
 * same adapter: topics are wsport's way to broadcast (the plain server's loop over
 * `site.connections` is shown, not judged).
 */
const every = (issue, server, peer, min) =>
  COMMON.map(({ key }) => ({
    server: key === "f" ? server.replace(/^wsport-/, "wsport-topics-") : server,
    peer,
    metric: key,
    min,
    issue,
  }));
const some = (issue, server, peer, min, keys) =>
  keys.map((metric) => ({ server, peer, metric, min, issue }));

/** @type {Target[]} */
export const TARGETS = [
  ...some(7, "wsport-node-node", "ws-node", 2.0, ["a"]),
  ...some(7, "wsport-node-node", "ws-node", 1.0, ["b50", "b99", "e", "d"]),
  ...some(7, "wsport-node-node", "ws-bufferutil-node", 0.9, ["c64k", "c1m"]),
  ...every(7, "wsport-bun-bun", "bun-native", 0.9),
  ...every(7, "wsport-deno-deno", "deno-native", 0.9),
  ...some(7, "wsport-node-deno", "deno-native", 1.0, ["a", "c64k", "c1m"]),
  ...some(7, "wsport-node-bun", "bun-native", 0.3, ["a"]),
  ...some(7, "wsport-node-bun", "bun-native", 0.9, ["c64k", "c1m"]),
  // Issue 18: large messages at C speed, native adapters at native speed, less memory
  // per idle connection (Bun.serve adapter within 1.5x native: a ratio of 1 / 1.5), and
  // handshakes 1.1x ws.
  ...some(18, "wsport-node-node", "ws-bufferutil-node", 1.0, ["c64k", "c1m"]),
  ...some(18, "wsport-bun-bun", "bun-native", 0.9, ["a"]),
  ...some(18, "wsport-deno-deno", "deno-native", 0.95, ["a"]),
  ...some(18, "wsport-node-node", "ws-node", 1.0, ["d"]),
  ...some(18, "wsport-bun-bun", "bun-native", 1 / 1.5, ["d"]),
  ...some(18, "wsport-node-node", "ws-node", 1.1, ["e"]),
];

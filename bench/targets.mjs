/**
 * The performance targets issue 7 sets, as data: each is a minimum ratio of a wsport
 * server to a peer on one metric ("times better", see scenarios.mjs).
 * @module
 */

import { SCENARIOS } from "./scenarios.mjs";

/**
 * @typedef {object} Target
 * @property {string} server
 * @property {string} peer
 * @property {string} metric A metric key.
 * @property {number} min The ratio the issue asks for.
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
const every = (server, peer, min) =>
  COMMON.map(({ key }) => ({
    server: key === "f" ? server.replace(/^wsport-/, "wsport-topics-") : server,
    peer,
    metric: key,
    min,
  }));
const some = (server, peer, min, keys) => keys.map((metric) => ({ server, peer, metric, min }));

/** @type {Target[]} */
export const TARGETS = [
  ...some("wsport-node-node", "ws-node", 2.0, ["a"]),
  ...some("wsport-node-node", "ws-node", 1.0, ["b50", "b99", "e", "d"]),
  ...some("wsport-node-node", "ws-bufferutil-node", 0.9, ["c64k", "c1m"]),
  ...every("wsport-bun-bun", "bun-native", 0.9),
  ...every("wsport-deno-deno", "deno-native", 0.9),
  ...some("wsport-node-deno", "deno-native", 1.0, ["a", "c64k", "c1m"]),
  ...some("wsport-node-bun", "bun-native", 0.3, ["a"]),
  ...some("wsport-node-bun", "bun-native", 0.9, ["c64k", "c1m"]),
];

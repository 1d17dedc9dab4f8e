/**
 * The servers the bench measures: wsport on each adapter and runtime, and the peers it
 * is compared with. Every one echoes at `/echo` and broadcasts at `/broadcast`; those
 * started for scenario (g) also publish compressed at `/chat`.
 * @module
 */

import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "./process.mjs";

const bin = (name) => join(repoRoot, "node_modules", ".bin", name);

/**
 * How to run each runtime, so commands read the same in the table and in the report.
 * @type {Record<string, (script: string, ...args: string[]) => string[]>}
 */
export const runtimeCommand = {
  node: (script, ...args) => [process.execPath, script, ...args],
  deno: (script, ...args) => [bin("deno"), "run", "-A", script, ...args],
  bun: (script, ...args) => [bin("bun"), script, ...args],
};

/** `servers/collect.mjs`, which every server loads first. */
const COLLECT = "bench/servers/collect.mjs";

/**
 * How to run a server on each runtime: as {@linkcode runtimeCommand}, with
 * `servers/collect.mjs` loaded first and the garbage collector exposed to it, the same
 * for every server (scenario d asks each for a full collection before reading its RSS).
 * @type {Record<string, (script: string, ...args: string[]) => string[]>}
 */
const serverCommand = {
  node: (
    script,
    ...args
  ) => [process.execPath, "--expose-gc", "--import", `./${COLLECT}`, script, ...args],
  deno: (
    script,
    ...args
  ) => [
    bin("deno"),
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    `--preload=${COLLECT}`,
    script,
    ...args,
  ],
  bun: (script, ...args) => [bin("bun"), "--preload", `./${COLLECT}`, script, ...args],
};

/**
 * @typedef {object} ServerSpec
 * @property {string} name The name `--server` takes.
 * @property {string} label What the table calls it.
 * @property {"node" | "deno" | "bun"} runtime
 * @property {string[]} command Program and arguments, run from the repository root.
 * @property {Record<string, string>} [env] Extra environment.
 * @property {string} [peer] For a wsport server, the peer it is compared with.
 * @property {boolean} websocket False for the plain TCP echo.
 * @property {boolean} [build] Whether it runs the compiled `.build/` output.
 * @property {string} [needs] A package it needs; the server is skipped without it.
 * @property {string[]} [scenarios] The only scenarios it runs (default: all but those
 *   that are opt-in).
 */

/** @type {ServerSpec[]} */
export const SERVERS = [
  {
    name: "wsport-node-node",
    label: "wsport Node adapter, Node",
    runtime: "node",
    command: serverCommand.node(".build/bench/servers/wsport.js", "node"),
    peer: "ws-node",
    websocket: true,
    build: true,
  },
  {
    name: "wsport-node-deno",
    label: "wsport Node adapter, Deno",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/wsport.ts", "node"),
    peer: "deno-native",
    websocket: true,
  },
  {
    name: "wsport-node-bun",
    label: "wsport Node adapter, Bun",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport.ts", "node"),
    peer: "bun-native",
    websocket: true,
  },
  {
    name: "wsport-deno-deno",
    label: "wsport Deno.serve adapter",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/wsport.ts", "deno"),
    peer: "deno-native",
    websocket: true,
  },
  {
    name: "wsport-bun-bun",
    label: "wsport Bun.serve adapter",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport.ts", "bun"),
    peer: "bun-native",
    websocket: true,
  },
  {
    name: "wsport-topics-node-node",
    label: "wsport topics, Node adapter, Node",
    runtime: "node",
    command: serverCommand.node(".build/bench/servers/wsport_topics.js", "node"),
    peer: "ws-node",
    websocket: true,
    build: true,
    scenarios: ["f"],
  },
  {
    name: "wsport-topics-node-bun",
    label: "wsport topics, Node adapter, Bun",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport_topics.ts", "node"),
    peer: "bun-native",
    websocket: true,
    scenarios: ["f"],
  },
  {
    name: "wsport-topics-bun-bun",
    label: "wsport topics, Bun.serve adapter",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport_topics.ts", "bun"),
    peer: "bun-native",
    websocket: true,
    scenarios: ["f"],
  },
  {
    name: "wsport-topics-deno-deno",
    label: "wsport topics, Deno.serve adapter",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/wsport_topics.ts", "deno"),
    peer: "deno-native",
    websocket: true,
    scenarios: ["f"],
  },
  {
    name: "wsport-deflate-node-node",
    label: "wsport deflate, Node adapter, Node",
    runtime: "node",
    command: serverCommand.node(".build/bench/servers/wsport_topics.js", "node", "chat"),
    peer: "ws-deflate-node",
    websocket: true,
    build: true,
    scenarios: ["g"],
  },
  {
    // No peer: Deno's own server cannot compress (compare with ws-deflate-node by eye).
    name: "wsport-deflate-node-deno",
    label: "wsport deflate, Node adapter, Deno",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/wsport_topics.ts", "node", "chat"),
    websocket: true,
    scenarios: ["g"],
  },
  {
    name: "wsport-deflate-node-bun",
    label: "wsport deflate, Node adapter, Bun",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport_topics.ts", "node", "chat"),
    peer: "bun-native-deflate",
    websocket: true,
    scenarios: ["g"],
  },
  {
    name: "wsport-deflate-bun-bun",
    label: "wsport deflate, Bun.serve adapter",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/wsport_topics.ts", "bun", "chat"),
    peer: "bun-native-deflate",
    websocket: true,
    scenarios: ["g"],
  },
  {
    name: "ws-node",
    label: "ws, Node",
    runtime: "node",
    command: serverCommand.node("bench/servers/ws.mjs"),
    env: { WS_NO_BUFFER_UTIL: "1" },
    websocket: true,
  },
  {
    name: "ws-bufferutil-node",
    label: "ws + bufferutil, Node",
    runtime: "node",
    command: serverCommand.node("bench/servers/ws.mjs"),
    websocket: true,
    needs: "bufferutil",
  },
  {
    name: "ws-deflate-node",
    label: "ws + permessage-deflate, Node",
    runtime: "node",
    command: serverCommand.node("bench/servers/ws.mjs", "deflate"),
    env: { WS_NO_BUFFER_UTIL: "1" },
    websocket: true,
    scenarios: ["g"],
  },
  {
    name: "bun-native",
    label: "Bun.serve native",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/bun_native.ts"),
    websocket: true,
  },
  {
    name: "bun-native-deflate",
    label: "Bun.serve native + permessage-deflate",
    runtime: "bun",
    command: serverCommand.bun("bench/servers/bun_native.ts", "deflate"),
    websocket: true,
    scenarios: ["g"],
  },
  {
    name: "deno-native",
    label: "Deno.serve native",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/deno_native.ts"),
    websocket: true,
  },
  {
    // Not a peer: shows what Deno's own heartbeat (a timer restarted per message) costs.
    name: "deno-native-heartbeat",
    label: "Deno.serve native + idleTimeout",
    runtime: "deno",
    command: serverCommand.deno("bench/servers/deno_native.ts", "heartbeat"),
    websocket: true,
    scenarios: ["a", "b", "c64k", "c1m"],
  },
  {
    name: "tcp-node",
    label: "node:net TCP echo (ceiling)",
    runtime: "node",
    command: serverCommand.node("bench/servers/tcp.mjs"),
    websocket: false,
  },
];

/**
 * Whether a server can run here: its package, if it needs one, is installed.
 * @param {ServerSpec} server
 * @returns {string | undefined} Why it cannot, or `undefined` when it can.
 */
export function unavailable(server) {
  if (server.needs === undefined) return undefined;
  try {
    createRequire(join(repoRoot, "package.json")).resolve(server.needs);
    return undefined;
  } catch {
    return `${server.needs} is not installed (npm install --save-dev ${server.needs})`;
  }
}

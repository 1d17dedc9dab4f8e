/**
 * One cell of the table: a fresh server, the load generators, and the measured windows.
 * @module
 */

import process from "node:process";
import { busyMs, ChildLines, cpuMs, rssKiB, sleep, spawnPinned, stopChild } from "./process.mjs";

const START_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 120_000;
/** Time for a server to settle before and after idle connections arrive (scenario d). */
const SETTLE_MS = 500;
/** Other processes' CPU use (% of one core) above which a window is measured again. */
const OTHER_CPU_LIMIT = 15;

/**
 * @typedef {object} CellOptions
 * @property {number} runs Measured windows.
 * @property {number} durationMs Length of each window.
 * @property {number} warmupMs An unmeasured window first (0 for none).
 * @property {boolean} smoke Smaller connection counts.
 * @property {string} serverCpus `taskset -c` list for the server.
 * @property {string[]} generatorCpus One `taskset -c` list per generator process.
 * @property {string[]} generatorCommand How to run `bench/load.mjs`.
 */

/**
 * A started server under test.
 * @param {import("./servers.mjs").ServerSpec} server
 * @param {CellOptions} options
 */
async function startServer(server, options) {
  const child = spawnPinned(options.serverCpus, server.command, server.env);
  const lines = new ChildLines(child);
  try {
    const { port } = await lines.nextJson(START_TIMEOUT_MS);
    return { child, lines, port: Number(port) };
  } catch (error) {
    await stopChild(child);
    throw new Error(`${server.name} did not start: ${error.message}`);
  }
}

/**
 * Starts the generators for a scenario and waits until each has connected.
 * @returns {Promise<{ child: import("node:child_process").ChildProcess, lines: ChildLines,
 *   connections: number }[]>}
 */
async function startGenerators(server, scenario, port, options) {
  const count = scenario.split ? options.generatorCpus.length : 1;
  const connections = options.smoke ? scenario.smokeConnections : scenario.connections;
  const generators = [];
  for (let i = 0; i < count; i++) {
    const share = Math.floor(connections / count) + (i < connections % count ? 1 : 0);
    const config = {
      kind: scenario.kind,
      port,
      path: scenario.path,
      websocket: server.websocket,
      connections: share,
      inFlight: scenario.inFlight,
      opcode: scenario.opcode,
      payloadBytes: scenario.payloadBytes,
      messages: scenario.messages,
      deflate: scenario.deflate,
      concurrency: Math.max(1, Math.ceil(scenario.concurrency / count)),
    };
    const child = spawnPinned(options.generatorCpus[i], [
      ...options.generatorCommand,
      "bench/load.mjs",
      JSON.stringify(config),
    ]);
    generators.push({ child, lines: new ChildLines(child), connections: share });
  }
  try {
    for (const generator of generators) {
      const ready = await generator.lines.nextJson(READY_TIMEOUT_MS);
      if (ready.error !== undefined) throw new Error(`load generator: ${ready.error}`);
      generator.handshakes = ready.handshakes;
    }
  } catch (error) {
    await Promise.all(generators.map((generator) => stopChild(generator.child)));
    throw error;
  }
  return generators;
}

/**
 * Measures one window on every generator at once and adds up their counts. The CPU
 * that processes other than the server, the generators and this one used meanwhile is
 * `otherCpuPercent`: something else on the machine competing for the cores.
 */
async function measureWindow(generators, ms, serverPid) {
  const pids = generators.map(({ child }) => child.pid);
  const ours = () => cpuMs(serverPid) + pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const self = process.cpuUsage();
  const before = { busy: busyMs(), ours: ours(), server: cpuMs(serverPid) };
  const start = performance.now();
  for (const { child } of generators) child.stdin.write(`measure ${ms}\n`);
  const parts = [];
  for (const { lines } of generators) parts.push(await lines.nextJson(ms + 30_000));
  const elapsed = performance.now() - start;
  const selfUsed = process.cpuUsage(self);
  const percent = (msUsed) => msUsed / elapsed * 100;
  const window = {
    frames: 0,
    bytes: 0,
    wireBytes: 0,
    errors: 0,
    handshakes: 0,
    wallMs: Math.max(...parts.map((part) => part.wallMs)),
    generatorCpuPercent: Math.max(...parts.map((part) => part.cpuPercent)),
    serverCpuMs: cpuMs(serverPid) - before.server,
    serverCpuPercent: percent(cpuMs(serverPid) - before.server),
    otherCpuPercent: Math.max(
      0,
      percent(
        busyMs() - before.busy - (ours() - before.ours) -
          (selfUsed.user + selfUsed.system) / 1000,
      ),
    ),
    p50Us: parts[0].p50Us,
    p99Us: parts[0].p99Us,
  };
  for (const part of parts) {
    for (const key of ["frames", "bytes", "wireBytes", "errors", "handshakes"]) {
      window[key] += part[key];
    }
  }
  return window;
}

/**
 * Measures a window again (up to `attempts` times in all) while other processes took
 * more than `OTHER_CPU_LIMIT` percent of a core during it.
 */
async function measureQuietWindow(generators, ms, serverPid, attempts = 3) {
  let window;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    window = await measureWindow(generators, ms, serverPid);
    window.attempts = attempt;
    if (window.otherCpuPercent <= OTHER_CPU_LIMIT) break;
  }
  return window;
}

/** Why a window does not count: nothing echoed, or something wrong echoed. */
function problem(scenario, window) {
  if (window.errors > 0) return `${window.errors} errors (wrong echoes or failed connections)`;
  if (scenario.kind === "handshake") return window.handshakes > 0 ? undefined : "no handshakes";
  return window.frames > 0 ? undefined : "nothing echoed";
}

/** Stops generators and the server, whatever happened. */
async function stopAll(server, generators) {
  await Promise.all(generators.map((generator) => stopChild(generator.child)));
  await stopChild(server.child);
}

/**
 * A server's RSS (KiB) and heap (bytes) once it has collected its garbage: a line `gc`
 * to the server, which `servers/collect.mjs` answers after a full collection.
 */
async function collectedMemory(started) {
  started.child.stdin.write("gc\n");
  const { collected, heapBytes } = await started.lines.nextJson(START_TIMEOUT_MS);
  if (collected !== true) throw new Error("the server could not collect its garbage");
  return { rss: rssKiB(started.child.pid), heap: Number(heapBytes) };
}

/**
 * Scenario (d): per run, a fresh server's RSS (and heap) before and after the idle
 * connections, each read after a full garbage collection.
 * @returns {Promise<object[]>} One window per run.
 */
async function measureIdle(server, scenario, options) {
  const windows = [];
  for (let run = 0; run < options.runs; run++) {
    const started = await startServer(server, options);
    let generators = [];
    try {
      await sleep(SETTLE_MS);
      const before = await collectedMemory(started);
      generators = await startGenerators(server, scenario, started.port, options);
      await sleep(SETTLE_MS);
      const after = await collectedMemory(started);
      const opened = generators.reduce((sum, generator) => sum + generator.handshakes, 0);
      const wanted = generators.reduce((sum, generator) => sum + generator.connections, 0);
      if (opened !== wanted) throw new Error(`opened ${opened} of ${wanted} connections`);
      windows.push({
        rssPerConnectionKiB: (after.rss - before.rss) / opened,
        heapPerConnectionBytes: (after.heap - before.heap) / opened,
        frames: opened,
      });
    } finally {
      await stopAll(started, generators);
    }
  }
  return windows;
}

/**
 * Measures one server on one scenario.
 *
 * @param {import("./servers.mjs").ServerSpec} server
 * @param {import("./scenarios.mjs").Scenario} scenario
 * @param {CellOptions} options
 * @returns {Promise<{ windows: object[] }>}
 * @throws {Error} When the server does not start, a generator fails, or a window counts
 *   nothing or counts errors.
 */
export async function measureCell(server, scenario, options) {
  if (scenario.kind === "idle") return { windows: await measureIdle(server, scenario, options) };
  const started = await startServer(server, options);
  let generators = [];
  try {
    generators = await startGenerators(server, scenario, started.port, options);
    if (options.warmupMs > 0) await measureWindow(generators, options.warmupMs, started.child.pid);
    const windows = [];
    for (let run = 0; run < options.runs; run++) {
      const window = await measureQuietWindow(generators, options.durationMs, started.child.pid);
      const wrong = problem(scenario, window);
      if (wrong !== undefined) throw new Error(wrong);
      windows.push(window);
    }
    return { windows };
  } finally {
    await stopAll(started, generators);
  }
}

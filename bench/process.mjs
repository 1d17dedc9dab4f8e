/**
 * Child processes for the bench: pinned to cores, read line by line, measured from
 * `/proc`, and always stopped.
 * @module
 */

import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root: every command runs from here. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Waits `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `taskset` (util-linux) is installed, so processes can be pinned to cores. */
export const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Clock ticks per second, the unit of CPU times in `/proc/<pid>/stat`. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Children still running: stopped if the bench exits or is interrupted first. */
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(130));
}

/**
 * Starts a command on the given cores (when `taskset` exists) with the open-file limit
 * raised to its hard maximum, keeping the command's own pid (both wrappers `exec`).
 *
 * @param {string} cpus A `taskset -c` list, such as "0" or "1-3".
 * @param {string[]} command Program and arguments.
 * @param {Record<string, string>} [env] Extra environment.
 * @returns {import("node:child_process").ChildProcess}
 */
export function spawnPinned(cpus, command, env = {}) {
  const pinned = hasTaskset ? ["taskset", "-c", cpus, ...command] : command;
  const child = spawn(
    "sh",
    ["-c", 'ulimit -n "$(ulimit -H -n)" 2>/dev/null; exec "$@"', "bench", ...pinned],
    {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Reads a child's output one line at a time, keeping the tail of its stderr. */
export class ChildLines {
  #buffered = "";
  /** @type {string[]} */
  #lines = [];
  /** @type {((line: string | undefined) => void) | undefined} */
  #waiter;
  #ended = false;
  /** The last lines the child wrote to stderr, for error messages. */
  stderr = "";

  /** @param {import("node:child_process").ChildProcess} child */
  constructor(child) {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text) => {
      this.#buffered += text;
      let newline;
      while ((newline = this.#buffered.indexOf("\n")) >= 0) {
        this.#push(this.#buffered.slice(0, newline));
        this.#buffered = this.#buffered.slice(newline + 1);
      }
    });
    child.stdout.on("end", () => {
      this.#ended = true;
      this.#waiter?.(undefined);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text) => this.stderr = (this.stderr + text).slice(-2000));
  }

  #push(line) {
    if (this.#waiter === undefined) this.#lines.push(line);
    else this.#waiter(line);
  }

  /**
   * The next line, or an error when the child ends or `timeoutMs` passes first.
   * @param {number} timeoutMs
   * @returns {Promise<string>}
   */
  next(timeoutMs) {
    if (this.#lines.length > 0) return Promise.resolve(this.#lines.shift());
    if (this.#ended) return Promise.reject(this.#error("exited"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(this.#error(`gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (line) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        if (line === undefined) reject(this.#error("exited"));
        else resolve(line);
      };
    });
  }

  /**
   * The next line that is a JSON object.
   * @param {number} timeoutMs
   * @returns {Promise<Record<string, unknown>>}
   */
  async nextJson(timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = await this.next(Math.max(1, deadline - performance.now()));
      if (line.startsWith("{")) return JSON.parse(line);
    }
  }

  #error(what) {
    const lines = this.stderr.split("\n").map((line) => line.trim()).filter(Boolean);
    const tail = lines.find((line) => /\w*Error\b/.test(line)) ?? lines.slice(-2).join(" | ");
    return new Error(`${what}${tail ? `: ${tail}` : ""}`);
  }
}

/**
 * Stops a child: SIGTERM, then SIGKILL if it is still there after a second.
 * @param {import("node:child_process").ChildProcess} child
 */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin?.end();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 1000);
  await exited;
  clearTimeout(timer);
}

/**
 * A process's resident set size, from `/proc/<pid>/status`.
 * @param {number} pid
 * @returns {number} VmRSS in KiB.
 */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

/**
 * CPU time a process (all its threads) has used, from `/proc/<pid>/stat`.
 * @param {number} pid
 * @returns {number} User plus system time in milliseconds.
 */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * CPU time all cores together have spent busy (everything but idle and iowait), from
 * `/proc/stat`.
 * @returns {number} Milliseconds.
 */
export function busyMs() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/)
    .slice(1, 9).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) * 1000 / CLOCK_TICKS;
}

/**
 * Waits until the machine is quiet: less than `percent` of one core busy over a 500 ms
 * sample, or `timeoutMs` has passed.
 * @returns {Promise<number>} The busy percentage of the last sample.
 */
export async function waitForQuiet(percent, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const before = busyMs();
    const start = performance.now();
    await sleep(500);
    const busy = (busyMs() - before) / (performance.now() - start) * 100;
    if (busy < percent || performance.now() >= deadline) return busy;
  }
}

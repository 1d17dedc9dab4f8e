/**
 * Running an attack against the attack server (`abuse_server.ts`, a child process) and
 * checking what it cost: the server's resident memory after a forced collection, its
 * open descriptors, and that a normal client is served right after.
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { Opcode } from "../../src/core/constants.ts";
import { buildFrame, FrameParser } from "../../src/core/frame.ts";
import { Client, upgradeRequest, WAIT_MS, within } from "../helpers/client.ts";
import { KEY } from "../helpers/frames.ts";
import { repoRoot } from "../helpers/paths.ts";
import { type Pair, runtime } from "../helpers/server.ts";
import { BASELINE_NOISE_BYTES, mib } from "./attack_limits.ts";

/** What `process.memoryUsage()` says of the heap, in bytes. */
export interface Heap {
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The attack server, running. */
export interface AttackServer {
  readonly pid: number;
  readonly port: number;
  /** Collects garbage in the server, then reads its resident size (VmRSS) in bytes. */
  settledRss(): Promise<number>;
  /** Starts a new peak: the resident size's high-water mark (VmHWM) drops to the current. */
  resetPeak(): void;
  /** The resident size's high-water mark since {@linkcode AttackServer.resetPeak}, in bytes. */
  peakRss(): number;
  /** The runtime's heap figures at the last {@linkcode AttackServer.settledRss}. */
  heap(): Heap;
  /** The server's open descriptors, from /proc/<pid>/fd. */
  fds(): number;
  /** Everything the server printed on stdout so far. */
  output(): string;
  /** Resolves once the server has printed a line matching `pattern`. */
  printed(pattern: RegExp, what: string): Promise<RegExpExecArray>;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** What it printed on stderr (a crash's reason). */
  readonly errors: () => string;
  stop(): Promise<void>;
}

/** A size from /proc/<pid>/status (given there in kB), in bytes. */
function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/**
 * V8 grows its young generation up to 32 MiB under a high allocation rate and keeps it
 * committed after a collection: resident memory that holds nothing. Capped at 1 MiB
 * per semi-space, what stays resident after a collection is what the server retains.
 */
const SEMI_SPACE_FLAG = "--max-semi-space-size=1";

/** The command that runs the attack server in this runtime, with garbage collection on. */
function serverCommand(): string[] {
  if (runtime === "deno") {
    return [
      process.execPath,
      "run",
      "--allow-all",
      `--v8-flags=--expose-gc,${SEMI_SPACE_FLAG}`,
      "tests/abuse/abuse_server.ts",
    ];
  }
  if (runtime === "bun") return [process.execPath, "tests/abuse/abuse_server.ts"];
  // Node runs the build of the test runner's tsc step.
  return [
    process.execPath,
    "--expose-gc",
    SEMI_SPACE_FLAG,
    ".build/tests/abuse/abuse_server.js",
  ];
}

/** Starts the attack server on the pair's adapter, serving `root` as files. */
export async function startAttackServer(
  pair: Pair,
  root = repoRoot,
  env: Record<string, string> = {},
): Promise<AttackServer> {
  const [command, ...args] = serverCommand();
  const child: ChildProcess = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env, WSPORT_ADAPTER: pair.adapter, ABUSE_ROOT: root, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => stderr += text);
  child.stdout!.on("data", (text: string) => {
    stdout += text;
    for (const watcher of watchers) watcher();
  });
  const printed = (pattern: RegExp, what: string) =>
    within(
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match !== null) {
            watchers.delete(check);
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            watchers.delete(check);
            reject(new Error(`The attack server exited: ${stderr}`));
          }
        };
        watchers.add(check);
        exited.then(check);
        check();
      }),
      what,
      30_000,
    );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await within(exited, "the attack server to exit");
  };
  let port: number;
  try {
    port = Number((await printed(/listening on (\d+)/, "the attack server to listen"))[1]);
  } catch (error) {
    await stop();
    throw error;
  }
  let collections = 0;
  let lastHeap: Heap = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const pid = child.pid!;
  return {
    pid,
    port,
    async settledRss() {
      child.stdin!.write("gc\n");
      const done = await printed(
        new RegExp(`gc ${++collections} done (.*)`),
        "the attack server to collect",
      );
      lastHeap = JSON.parse(done[1]);
      return statusBytes(pid, "VmRSS");
    },
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, "5"),
    peakRss: () => statusBytes(pid, "VmHWM"),
    heap: () => lastHeap,
    output: () => stdout,
    printed,
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    errors: () => stderr,
    stop,
  };
}

/** How the heap figures moved: "heap +1.0 MiB, buffers +96.0 MiB". */
function heapDelta(before: Heap, after: Heap): string {
  const delta = (bytes: number) => `${bytes >= 0 ? "+" : ""}${mib(bytes)}`;
  return `heap used ${delta(after.heapUsed - before.heapUsed)} of ` +
    `${delta(after.heapTotal - before.heapTotal)}, ` +
    `buffers ${delta(after.external + after.arrayBuffers - before.external - before.arrayBuffers)}`;
}

/** A memory bound and how it follows from the limits. */
export interface Bound {
  bytes: number;
  /** The formula, in words and numbers: "2 × maxMessageBytes + noise = 26 MiB". */
  formula: string;
}

/** A bound of `derived` bytes (from the limits) plus the baseline noise. */
export function bound(derived: number, formula: string): Bound {
  const bytes = derived + BASELINE_NOISE_BYTES;
  return { bytes, formula: `${formula} + ${mib(BASELINE_NOISE_BYTES)} noise = ${mib(bytes)}` };
}

/** Descriptors a runtime may open or close by itself between two counts (threads, caches). */
export const FD_SLACK = 8;

/** How long a server may take to let go of descriptors it must release. */
export const RELEASE_WAIT_MS = 10_000;

/**
 * Waits until the server has at most `most` descriptors open, polling, for at most
 * `waitMs`; returns the last count.
 */
export async function fdsSettle(
  server: AttackServer,
  most: number,
  waitMs = RELEASE_WAIT_MS,
): Promise<number> {
  const until = performance.now() + waitMs;
  let count = server.fds();
  while (count > most && performance.now() < until && server.running) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = server.fds();
  }
  return count;
}

/** An echo round trip with a normal client (`ws` on Node): a text and a 64 KiB binary. */
export async function normalClientServed(server: AttackServer): Promise<void> {
  const client = await Client.open(`ws://127.0.0.1:${server.port}/echo`);
  try {
    const binary = new Uint8Array(64 * 1024).map((_, i) => i * 7);
    client.send("still served");
    client.send(binary);
    assert.equal(await client.next(), "still served");
    assert.deepEqual(await client.next(), binary);
  } finally {
    await client.closeAndWait();
  }
}

/** What an attack holds open while the server is measured. */
export interface Held {
  /** Ends the attack's connections. */
  release(): void;
  /** What the attack saw, for the report: "closed with 1009 after 42 MiB". */
  note?: string;
}

/** Options of {@linkcode underAttack}. */
export interface AttackOptions {
  /** The folder the server serves at `/`. */
  root?: string;
  /** More environment for the server (`REDIS_URL`). */
  env?: Record<string, string>;
  /**
   * Whether the server must release the attack's descriptors while the attacker still
   * holds its side open (refused upgrades, stalled responses, half-open connections).
   */
  releaseWhileHeld?: boolean;
  /** How long the server may take to release them. */
  releaseWaitMs?: number;
  /**
   * The attack's harmless twin: the same traffic without what the attack makes the server
   * keep (empty fragments for one-byte ones, the pongs without the counted bytes, the
   * echoes without the stalled peer's pings). It runs, on its own connections, before the
   * baseline is read, so that what a runtime keeps for having moved that much traffic
   * (Deno's node:net keeps tens of MiB of native memory after 100 MiB through its
   * sockets, reused but never given back) is in the baseline, not in the growth.
   */
  twin?: (server: AttackServer) => Promise<unknown>;
  /**
   * Whether to bound the peak resident size during the attack (VmHWM) rather than what
   * stays after it: for attacks whose cost is per request, not kept.
   */
  peak?: boolean;
}

/**
 * Runs `attack` against a fresh attack server on `pair` and checks, in this order: the
 * server's resident size after a collection, with the attack's connections still open,
 * grew by less than `limit` (or its peak during the attack did, with `peak`); the descriptors went back to where they were (while the
 * attacker holds on, with `releaseWhileHeld`, else once it lets go); a normal client is
 * served. Prints the numbers measured on one line.
 */
export async function underAttack(
  pair: Pair,
  name: string,
  limit: Bound,
  attack: (server: AttackServer) => Promise<Held>,
  options: AttackOptions = {},
): Promise<void> {
  const server = await startAttackServer(pair, options.root, options.env);
  try {
    // A first round trip loads every code path a normal connection takes.
    await normalClientServed(server);
    await options.twin?.(server);
    const fdsBefore = await fdsSettle(server, 0, 300);
    const before = await server.settledRss();
    const heapBefore = server.heap();
    if (options.peak) server.resetPeak();
    const held = await attack(server);
    const peak = options.peak ? server.peakRss() - before : undefined;
    let heldFds: number | undefined;
    let growth: number;
    let heapGrowth: string;
    try {
      assert.ok(server.running, `${pair.name} ${name}: the server died: ${server.errors()}`);
      growth = peak ?? (await server.settledRss()) - before;
      if (peak !== undefined) await server.settledRss();
      heapGrowth = heapDelta(heapBefore, server.heap());
      if (options.releaseWhileHeld) {
        heldFds = await fdsSettle(server, fdsBefore + FD_SLACK, options.releaseWaitMs);
      }
    } finally {
      held.release();
    }
    const fdsAfter = await fdsSettle(server, fdsBefore + FD_SLACK, options.releaseWaitMs);
    const what = peak === undefined ? "RSS" : "peak RSS";
    const line = `[abuse] ${pair.name} ${name}: ${what} ${growth >= 0 ? "+" : ""}${mib(growth)} ` +
      `(bound ${limit.formula}; ${heapGrowth}); fds ${fdsBefore} -> ` +
      `${heldFds === undefined ? "" : `${heldFds} held, `}${fdsAfter} after` +
      (held.note === undefined ? "" : `; ${held.note}`);
    console.log(line);
    assert.ok(growth <= limit.bytes, `${line}\nmemory grew past the bound`);
    if (heldFds !== undefined) {
      assert.ok(heldFds <= fdsBefore + FD_SLACK, `${line}\ndescriptors kept while held`);
    }
    assert.ok(fdsAfter <= fdsBefore + FD_SLACK, `${line}\ndescriptors not released`);
    assert.ok(server.running, `${pair.name} ${name}: the server died: ${server.errors()}`);
    await normalClientServed(server);
  } finally {
    await server.stop();
  }
}

/** A masked frame, as a client sends it. */
export function maskedFrame(
  opcode: number,
  payload: Uint8Array | string,
  fin = true,
): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  return buildFrame(opcode, bytes, { fin, mask: KEY });
}

/** `unit` repeated `times` over, in one buffer. */
export function repeated(unit: Uint8Array, times: number): Uint8Array {
  const bytes = new Uint8Array(unit.length * times);
  for (let i = 0; i < times; i++) bytes.set(unit, i * unit.length);
  return bytes;
}

/**
 * Writes `block` `times` over, waiting for the socket to drain between writes; resolves
 * when all is handed to the kernel, or early when the socket closes (the server gave up
 * on the attacker) or stops draining for `stallMs` (it stopped reading).
 * @returns How many blocks were written.
 */
export async function writeBlocks(
  socket: Socket,
  block: Uint8Array,
  times: number,
  stallMs = 5_000,
): Promise<number> {
  for (let i = 0; i < times; i++) {
    if (socket.destroyed || socket.writableEnded) return i;
    if (socket.write(block)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), stallMs);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        socket.off("drain", onDrain);
        socket.off("close", onClose);
        resolve(result);
      };
      const onDrain = () => finish(true);
      const onClose = () => finish(false);
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
    if (!drained) return i + 1;
  }
  return times;
}

/**
 * A raw WebSocket client for attacks: it writes what it is told and reads what comes back
 * without keeping it (frames are parsed as they arrive, and only counted), so a million
 * pongs cost it nothing.
 */
export class Attacker {
  readonly socket: Socket;
  /** The response head's headers. */
  headers = new Headers();
  readonly #parser = new FrameParser({ role: "client", maxFrameBytes: 1 << 30 });
  #head: Uint8Array | undefined = new Uint8Array(0);
  #messages = 0;
  #ended: string | undefined;
  #token: Uint8Array | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.once("close", () => this.#end("TCP closed"));
  }

  /**
   * Connects to the attack server and upgrades to `path`, with extra request headers.
   * @throws {Error} When the answer is not 101.
   */
  static async open(
    port: number,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Attacker> {
    const socket = await within(
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          resolve(socket);
        });
      }),
      `connecting to port ${port}`,
    );
    const attacker = new Attacker(socket);
    socket.write(upgradeRequest(path, headers));
    await attacker.#until(() => attacker.#head === undefined, "the response head");
    if (attacker.#ended !== undefined) {
      throw new Error(`Upgrading to ${path} failed: ${attacker.#ended}`);
    }
    return attacker;
  }

  /** Whether the server has ended the connection. */
  get isEnded(): boolean {
    return this.#ended !== undefined;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Stops reading: the kernel buffers fill and the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits until `count` messages in all have come back. */
  messages(count: number): Promise<void> {
    return this.#until(() => this.#messages >= count, `${count} messages`);
  }

  /**
   * Sends a ping and reads until its pong comes back, so everything sent before it has
   * been read; or until the server ends the connection.
   * @returns `"pong"`, or how the server ended it: "Close 1009", "TCP closed".
   */
  async synced(waitMs = 60_000): Promise<string> {
    const token = new TextEncoder().encode(`sync ${Math.random()}`);
    this.#token = token;
    this.write(maskedFrame(Opcode.Ping, token));
    await this.#until(() => this.#token === undefined, "the pong", waitMs);
    return this.#ended ?? "pong";
  }

  #until(done: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (done() || this.#ended !== undefined) {
            this.#wake = undefined;
            resolve();
          }
        };
        this.#wake = check;
        check();
      }),
      what,
      ms,
    );
  }

  #end(how: string): void {
    this.#ended ??= how;
    this.#head = undefined;
    this.#wake?.();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#head !== undefined) {
      const bytes = new Uint8Array(this.#head.length + chunk.length);
      bytes.set(this.#head);
      bytes.set(chunk, this.#head.length);
      const text = new TextDecoder("latin1").decode(bytes);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        this.#head = bytes;
        return;
      }
      const [status, ...lines] = text.slice(0, end).split("\r\n");
      for (const line of lines) {
        const colon = line.indexOf(":");
        this.headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      this.#head = undefined;
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        this.destroy();
        this.#end(status);
      }
      chunk = bytes.subarray(end + 4);
    }
    this.#parser.push(chunk.slice());
    for (let frame = this.#parser.next(); frame !== undefined; frame = this.#parser.next()) {
      if (frame.opcode === Opcode.Text || frame.opcode === Opcode.Binary) this.#messages++;
      else if (frame.opcode === Opcode.Close) {
        const { payload } = frame;
        this.#end(`Close ${payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005}`);
      } else if (frame.opcode === Opcode.Pong && this.#token !== undefined) {
        const token = this.#token;
        if (
          frame.payload.length === token.length && frame.payload.every((b, i) => b === token[i])
        ) {
          this.#token = undefined;
        }
      }
    }
    this.#wake?.();
  }
}

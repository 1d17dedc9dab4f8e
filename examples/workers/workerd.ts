/**
 * Runs a Worker written with wsport under a local `workerd`, offline on 127.0.0.1: it
 * bundles the TypeScript entry with `bun build` (both come with `npm install`: the
 * `bun` and `workerd` devDependencies), writes a Cap'n Proto config beside the bundle,
 * and starts `workerd serve` on it. The npm scripts (`workers:echo`, `workers:chat`) and
 * the tests in `tests/workers/` start their Workers with this one module.
 *
 * Port 0 is honoured: `workerd` reports the port it bound on a pipe (`--control-fd`).
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Buffer } from "node:buffer";
import process from "node:process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/** A Durable Object class the Worker exports, and the binding that reaches it. */
export interface DurableObjectBinding {
  /** The exported class's name. */
  readonly className: string;
  /** The name of the binding in `env`. */
  readonly binding: string;
}

/** What to run. */
export interface WorkerOptions {
  /** The Worker's TypeScript entry, relative to the repository's root. */
  readonly entry: string;
  /** Its Durable Object classes. @default none */
  readonly durableObjects?: readonly DurableObjectBinding[];
  /** The port on 127.0.0.1; 0 lets the system pick one. @default 0 */
  readonly port?: number;
  /** The address to listen on. @default "127.0.0.1" */
  readonly hostname?: string;
  /** Compatibility flags over those of the compatibility date. @default none */
  readonly compatibilityFlags?: readonly string[];
  /** Called with what `workerd` prints (its Workers' `console.log` too), as it comes. */
  readonly onOutput?: (text: string) => void;
}

/** A running `workerd`. */
export interface RunningWorker {
  /** The bound port. */
  readonly port: number;
  /** What `workerd` printed so far, stdout and stderr together. */
  output(): string;
  /** Stops it and removes its files. */
  stop(): Promise<void>;
}

/**
 * The compatibility flag that leaves the answer to a peer's Close to wsport, which fails
 * an invalid one with 1002 (the runtime would echo its code).
 */
export const MANUAL_CLOSE = "web_socket_manual_reply_to_close";

/**
 * The example Workers, by name (`npm run workers:<name>`): their entry and Durable
 * Objects, as their `wrangler.toml` files say too.
 */
export const EXAMPLE_WORKERS: Readonly<Record<string, WorkerOptions>> = Object.freeze({
  echo: { entry: "examples/workers/echo.ts", compatibilityFlags: [MANUAL_CLOSE] },
  chat: {
    entry: "examples/workers/chat.ts",
    durableObjects: [{ className: "ChatRoom", binding: "ROOMS" }],
    compatibilityFlags: [MANUAL_CLOSE],
  },
});

/** The compatibility date the Workers are written for (no later than the `workerd` installed). */
export const COMPATIBILITY_DATE = "2026-11-01";

/** How long `workerd` may take to bundle-load and bind, in milliseconds. */
const START_TIMEOUT_MS = 30_000;

/** The repository's root: the nearest folder above this module with a `deno.json`. */
function repositoryRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, "deno.json"))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error("workerd.ts: no deno.json above this module");
    folder = parent;
  }
  return folder;
}

/** A Cap'n Proto string literal. */
const text = (value: string) => JSON.stringify(value);

/**
 * The Cap'n Proto config for one Worker module: one service, one HTTP socket, and its
 * Durable Objects kept in memory (they end with the process).
 */
export function workerdConfig(
  module: string,
  address: string,
  durableObjects: readonly DurableObjectBinding[] = [],
  compatibilityFlags: readonly string[] = [],
): string {
  const flags = compatibilityFlags.length === 0
    ? ""
    : `\n      compatibilityFlags = [${compatibilityFlags.map(text).join(", ")}],`;
  const objects = durableObjects.length === 0 ? "" : `
      durableObjectNamespaces = [${
    durableObjects.map(({ className }) =>
      `(className = ${text(className)}, uniqueKey = ${text(`wsport-${className}`)})`
    ).join(", ")
  }],
      durableObjectStorage = (inMemory = void),
      bindings = [${
    durableObjects.map(({ className, binding }) =>
      `(name = ${text(binding)}, durableObjectNamespace = ${text(className)})`
    ).join(", ")
  }],`;
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [(name = ${text(module)}, esModule = embed ${text(module)})],
      compatibilityDate = ${text(COMPATIBILITY_DATE)},${flags}${objects}
    )),
  ],
  sockets = [(name = "http", address = ${text(address)}, http = (), service = "main")],
);
`;
}

/** Runs a program to completion, failing with its output when it fails. */
function run(program: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => output += chunk);
    child.stderr.on("data", (chunk) => output += chunk);
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${program} ${args.join(" ")} failed (${code}):\n${output}`));
    });
  });
}

/** Resolves with the port `workerd` reports on its control pipe, or rejects. */
function boundPort(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const control = child.stdio[3] as Readable;
    let received = "";
    const timer = setTimeout(() => {
      reject(new Error(`workerd did not listen within ${START_TIMEOUT_MS} ms:\n${output()}`));
    }, START_TIMEOUT_MS);
    control.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
      for (const line of received.split("\n")) {
        if (line.trim() === "") continue;
        const event = JSON.parse(line) as { event?: string; socket?: string; port?: number };
        if (event.event === "listen" && event.socket === "http") {
          clearTimeout(timer);
          resolvePromise(event.port!);
        }
      }
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`workerd exited (${code}) before listening:\n${output()}`));
    });
  });
}

/**
 * Bundles a Worker and serves it with `workerd`.
 *
 * @example
 * ```ts ignore
 * const worker = await startWorker({ entry: "examples/workers/echo.ts" });
 * console.log(`http://127.0.0.1:${worker.port}/`);
 * await worker.stop();
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const root = repositoryRoot();
  const folder = await mkdtemp(join(tmpdir(), "wsport-workerd-"));
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  try {
    await run(bin("bun"), [
      "build",
      resolve(root, options.entry),
      "--target=browser",
      "--format=esm",
      `--outfile=${join(folder, "worker.js")}`,
    ], root);
    const address = `${options.hostname ?? "127.0.0.1"}:${options.port ?? 0}`;
    await writeFile(
      join(folder, "config.capnp"),
      workerdConfig("worker.js", address, options.durableObjects, options.compatibilityFlags),
    );
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  const child = spawn(bin("workerd"), ["serve", "config.capnp", "--control-fd=3"], {
    cwd: folder,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  const printed = (chunk: Buffer) => {
    output += chunk;
    options.onOutput?.(String(chunk));
  };
  child.stdout!.on("data", printed);
  child.stderr!.on("data", printed);
  // A process that exits without stopping it (a test that failed to, a crash) takes
  // workerd along rather than leave it holding its port.
  const orphaned = () => {
    child.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true });
  };
  process.once("exit", orphaned);
  const exited = new Promise<void>((resolvePromise) => child.once("close", () => resolvePromise()));
  const stop = async () => {
    process.off("exit", orphaned);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    await rm(folder, { recursive: true, force: true });
  };
  let port: number;
  try {
    port = await boundPort(child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, output: () => output, stop };
}

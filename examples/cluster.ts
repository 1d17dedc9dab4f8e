/**
 * The chat example on every core: one worker process per core, all on one port, sharing
 * rooms through the Redis at `REDIS_URL`.
 *
 *     REDIS_URL=redis://127.0.0.1:6379 bun run examples/cluster.ts
 *     REDIS_URL=redis://127.0.0.1:6379 deno run -A --unstable-net examples/cluster.ts
 *     REDIS_URL=redis://127.0.0.1:6379 npm run example:cluster
 *
 * On Bun and Deno the workers are child processes listening with `reusePort` (the kernel
 * spreads connections among them; Deno.serve needs `--unstable-net` for it). Node 20
 * has no `reusePort`, so on Node the workers come from `node:cluster`, which shares one
 * listening socket. `WORKERS` sets how many (default: one per core); `PORT`, `HOST`,
 * `WSPORT_ADAPTER` and `REDIS_CHANNEL` are passed on to them. `REDIS_CHANNEL` names the
 * Redis channel the workers share (default "wsport-chat"): give each application on a
 * Redis its own, as in
 *
 *     REDIS_URL=redis://127.0.0.1:6379 REDIS_CHANNEL=chat:prod bun run examples/cluster.ts
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import cluster from "node:cluster";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/adapters/runtime.ts";
import { env } from "./listen.ts";

/** A free port, when `PORT=0` asks for any: every worker must get the same one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const workers = Number(env("WORKERS") ?? availableParallelism());
if (!Number.isInteger(workers) || workers < 1) {
  throw new RangeError(`WORKERS must be a positive integer, got "${env("WORKERS")}"`);
}
if (env("REDIS_URL") === undefined) {
  console.warn("REDIS_URL is not set: each worker keeps rooms of its own");
}
let port = env("PORT") ?? "8080";
if (port === "0") port = String(await freePort());
const runtime = detectRuntime();
const chat = fileURLToPath(
  new URL(`./chat.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
);
const workerEnv = { ...process.env, PORT: port };

const args = runtime === "deno" ? ["run", "--allow-all", "--unstable-net", chat] : [chat];
if (runtime === "node") cluster.setupPrimary({ exec: chat });
const children: ChildProcess[] = [];
for (let i = 0; i < workers; i++) {
  const child = runtime === "node"
    ? cluster.fork(workerEnv).process
    : spawn(process.execPath, args, { env: { ...workerEnv, REUSE_PORT: "1" }, stdio: "inherit" });
  child.once("exit", (code, signal) => {
    console.log(`worker ${child.pid} exited (${code ?? signal})`);
    if (children.every((each) => each.exitCode !== null || each.signalCode !== null)) {
      process.exit(0);
    }
  });
  children.push(child);
}
// Stop the workers with the cluster; it exits once they all have.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => children.forEach((child) => child.kill(signal)));
}
console.log(`cluster: ${workers} ${runtime} workers on port ${port}`);

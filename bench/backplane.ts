/**
 * Scenario (h), on its own: messages per second from one process to another through each
 * Redis backplane, `RedisStreamsBackplane` against `RedisBackplane`, as a ratio.
 *
 *     deno run -A bench/backplane.ts [--seconds 3] [--bytes 64]
 *
 * It starts a throwaway `redis-server` (no persistence: the cost measured is the
 * backplane's and Redis's, not the disk's), then for each backplane a receiving process
 * and a sending process (this script, with a role). The sender publishes `--bytes` of text
 * as fast as the backplane takes it (200 messages, then a timer turn), the receiver counts
 * what arrives in a window of `--seconds` after one second of warm-up, and reports it
 * with the Redis memory used at the end.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { type BackplaneKind, connectBackplane } from "../tests/helpers/redis_backplane.ts";

const [role, url, kind] = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const seconds = option("seconds", 3);
const bytes = option("bytes", 64);
const BOUND = { maxPendingPublishes: 50_000, maxPendingBytes: 256 * 1024 ** 2 };

if (role === "send") {
  let overflows = 0;
  const { backplane } = await connectBackplane(url, kind as BackplaneKind, {
    ...BOUND,
    onError: () => overflows++,
  });
  const payload = "x".repeat(bytes);
  process.stdin.on("end", () => process.exit(overflows === 0 ? 0 : 3)).resume();
  for (;;) {
    for (let i = 0; i < 200; i++) backplane.publish("bench", payload);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
} else if (role === "receive") {
  let count = 0;
  const { backplane } = await connectBackplane(url, kind as BackplaneKind, { onError: () => {} });
  backplane.onMessage(() => count++);
  // Both backplanes route by interest: a process gets a topic once it says it has a subscriber.
  backplane.subscribe?.("bench");
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log("ready");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const start = count;
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  const rate = (count - start) / ((performance.now() - began) / 1_000);
  console.log(`rate ${Math.round(rate)}`);
  process.exit(0);
} else {
  await main();
}

async function main(): Promise<void> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const redis = spawn("redis-server", ["--save", "", "--appendonly", "no", "--port", String(port)]);
  await lineFrom(redis, "Ready to accept connections");
  const redisUrl = `redis://127.0.0.1:${port}`;
  const rates = new Map<BackplaneKind, number>();
  try {
    for (const kind of ["pubsub", "streams"] as const) {
      const receiver = self("receive", redisUrl, kind);
      await lineFrom(receiver, "ready");
      const sender = self("send", redisUrl, kind);
      const line = await lineFrom(receiver, "rate ");
      sender.stdin!.end();
      const overflowed = await new Promise((resolve) => sender.on("exit", (code) => resolve(code)));
      const rate = Number(/rate (\d+)/.exec(line)![1]);
      rates.set(kind, rate);
      const memory = await redisMemory(port);
      console.log(
        `${kind.padEnd(8)} ${rate.toLocaleString("en").padStart(9)} msg/s` +
          `  redis used_memory ${memory}` +
          (overflowed === 3 ? "  (the sender hit its pending bound: messages dropped)" : ""),
      );
    }
    const ratio = rates.get("streams")! / rates.get("pubsub")!;
    console.log(`streams / pub/sub: ${ratio.toFixed(2)} (${bytes}-byte messages, ${seconds} s)`);
  } finally {
    redis.kill("SIGKILL");
  }
}

/** This script in a role, on the same runtime. */
function self(role: string, url: string, kind: string): ChildProcess {
  const script = new URL(import.meta.url).pathname;
  const args = process.versions.deno !== undefined ? ["run", "-A", script] : [script];
  return spawn(process.execPath, [...args, role, url, kind, "--seconds", String(seconds)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
}

/** Resolves with the first line of `child`'s output that contains `text`. */
function lineFrom(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${output}`)), 20_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const line = output.split("\n").find((line) => line.includes(text));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

/** Redis's `used_memory_human`, through `redis-cli`. */
async function redisMemory(port: number): Promise<string> {
  const cli = spawn("redis-cli", ["-p", String(port), "INFO", "memory"]);
  let output = "";
  cli.stdout.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  await new Promise((resolve) => cli.on("exit", resolve));
  return /used_memory_human:(\S+)/.exec(output)?.[1] ?? "?";
}

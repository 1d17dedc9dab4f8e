/**
 * Scenario (i), the backplane's routing: P wsport processes share T topics through one
 * `redis-server`, each topic with its subscribers on one process, and every process
 * publishes to topics of the others at a fixed rate. Run with `RedisBackplane`'s
 * `routing: "broadcast"` (one channel: every process decodes every message) and
 * `routing: "interest"` (a channel per topic), and with `RedisStreamsBackplane` on one
 * stream (`streams-one`: every process reads every message) and on `--partitions`
 * streams (`streams`: each process reads the partitions of its topics), it reports per
 * process: messages published, decoded and delivered per second, CPU per second, and
 * Redis's commands and CPU, then the ratio of CPU per message published.
 *
 * `bun bench/backplane_routing.ts [--processes 4] [--topics 2000] [--rate 2000]
 * [--duration 5000] [--partitions 16] [--cases broadcast,interest,streams-one,streams]`
 * (rate: messages per second, all processes together). Needs `redis-server`. Not part
 * of `bench/run.mjs`: it measures the backplane, not a server.
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { createClient } from "redis";
import { RedisBackplane } from "../src/backplane/redis.ts";
import { RedisStreamsBackplane } from "../src/backplane/redis_streams.ts";
import { freePort } from "../tests/helpers/redis.ts";

type Routing = "broadcast" | "interest" | "streams-one" | "streams";
const CASES: Routing[] = ["broadcast", "interest", "streams-one", "streams"];

interface Row {
  index: number;
  published: number;
  decoded: number;
  delivered: number;
  cpuMs: number;
  windowMs: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(args[at + 1]);
};

if (args[0] === "worker") await worker();
else await coordinate();

/** One process: subscribes to its topics, then publishes to the others' for the window. */
async function worker(): Promise<void> {
  const [, routing, url, index, processes, topics, rate, duration, partitions] = args;
  const [me, p, t, r, ms] = [index, processes, topics, rate, duration].map(Number);
  const publisher = createClient({ url });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const backplane = routing.startsWith("streams")
    ? new RedisStreamsBackplane({
      call: (command) => publisher.sendCommand(command),
      block: (command) => subscriber.sendCommand(command),
    }, {
      stream: `bench:${routing}`,
      partitions: routing === "streams" ? Number(partitions) : 1,
      maxPendingPublishes: 100_000,
    })
    : new RedisBackplane({
      publish: (channel, message) => publisher.publish(channel, message),
      subscribe: (channels, listener) => subscriber.subscribe(channels, listener),
      unsubscribe: (channels) => subscriber.unsubscribe(channels),
    }, { channel: "bench", routing: routing as "broadcast", maxPendingPublishes: 100_000 });
  const mine = new Set<string>();
  let decoded = 0;
  let delivered = 0;
  // What the site's Topics does with a message: look the topic up, deliver if it has one.
  backplane.onMessage((topic) => {
    decoded++;
    if (mine.has(topic)) delivered++;
  });
  for (let k = me; k < t; k += p) {
    mine.add(`doc:${k}`);
    backplane.subscribe(`doc:${k}`);
  }
  const changing = () => backplane instanceof RedisBackplane && backplane.interest.changing > 0;
  while (backplane.status !== "up" || changing()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // the others subscribe too
  const payload = "x".repeat(100);
  const perTick = r / p / 100;
  let published = 0;
  let owed = 0;
  decoded = delivered = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let seed = me + 1;
  while (performance.now() - start < ms) {
    owed += perTick;
    for (; owed >= 1; owed--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      let k = seed % t;
      if (k % p === me) k = (k + 1) % t;
      backplane.publish(`doc:${k}`, payload);
      published++;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const windowMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const row: Row = {
    index: me,
    published,
    decoded,
    delivered,
    cpuMs: (used.user + used.system) / 1000,
    windowMs,
  };
  console.log(JSON.stringify(row));
  await backplane.close();
  await Promise.all([publisher.destroy(), subscriber.destroy()]);
}

/** CPU time of a process so far, in ms, from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function coordinate(): Promise<void> {
  const processes = option("processes", 4);
  const topics = option("topics", 2_000);
  const rate = option("rate", 2_000);
  const duration = option("duration", 5_000);
  const partitions = option("partitions", 16);
  const at = args.indexOf("--cases");
  const cases = at < 0 ? CASES : args[at + 1].split(",") as Routing[];
  const port = await freePort();
  const redis = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) =>
    redis.stdout.on("data", (chunk) => String(chunk).includes("Ready to accept") && resolve())
  );
  const url = `redis://127.0.0.1:${port}`;
  const results: Partial<
    Record<Routing, { rows: Row[]; redisCpuMs: number; commands: number }>
  > = {};
  const info = createClient({ url });
  await info.connect();
  /** Commands Redis ran so far, all kinds together. */
  const commands = async () => {
    const stats = await info.info("commandstats");
    return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
  };
  try {
    for (const routing of cases) {
      const redisBefore = cpuOf(redis.pid!);
      const commandsBefore = await commands();
      const rows = await Promise.all(
        Array.from({ length: processes }, (_, index) =>
          new Promise<Row>((resolve, reject) => {
            const child = spawn(process.execPath, [
              new URL(import.meta.url).pathname,
              "worker",
              routing,
              url,
              String(index),
              String(processes),
              String(topics),
              String(rate),
              String(duration),
              String(partitions),
            ], { stdio: ["ignore", "pipe", "inherit"] });
            let output = "";
            child.stdout.on("data", (chunk) => output += chunk);
            child.on("close", (code) => {
              const line = output.trim().split("\n").pop() ?? "";
              code === 0
                ? resolve(JSON.parse(line))
                : reject(new Error(`worker ${index}: ${code}`));
            });
          })),
      );
      results[routing] = {
        rows,
        redisCpuMs: cpuOf(redis.pid!) - redisBefore,
        commands: await commands() - commandsBefore,
      };
    }
  } finally {
    await info.destroy();
    redis.kill("SIGTERM");
  }
  console.log(
    `P=${processes} processes, T=${topics} topics (subscribers on one process each), ` +
      `${rate} msg/s in all, 100-byte text, ${duration} ms window, ` +
      `${partitions} partitions for streams, ${
        process.versions.bun === undefined ? "node" : "bun"
      } ` +
      `${process.versions.bun ?? process.version}\n`,
  );
  console.log(
    "| routing | published/s (all) | decoded/s per process | delivered/s per process | " +
      "CPU per process (% of a core) | CPU µs per published message (all processes) | " +
      "redis-server CPU (% of a core, whole run) | Redis commands (whole run) |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const perMessage: Record<string, number> = {};
  for (const [routing, { rows, redisCpuMs, commands }] of Object.entries(results)) {
    const seconds = rows[0].windowMs / 1000;
    const published = rows.reduce((sum, row) => sum + row.published, 0);
    const cpu = rows.reduce((sum, row) => sum + row.cpuMs, 0);
    const mean = (pick: (row: Row) => number) =>
      rows.reduce((sum, row) => sum + pick(row), 0) / rows.length;
    perMessage[routing] = cpu * 1000 / published;
    console.log(
      `| ${routing} | ${Math.round(published / seconds)} | ${
        Math.round(mean((row) => row.decoded) / seconds)
      } | ` +
        `${Math.round(mean((row) => row.delivered) / seconds)} | ${
          (mean((row) => row.cpuMs) / rows[0].windowMs * 100).toFixed(1)
        } | ` +
        `${perMessage[routing].toFixed(1)} | ${
          (redisCpuMs / (rows[0].windowMs + 2_500) * 100).toFixed(1)
        } | ${commands} |`,
    );
  }
  for (const [wide, routed] of [["broadcast", "interest"], ["streams-one", "streams"]]) {
    if (perMessage[wide] === undefined || perMessage[routed] === undefined) continue;
    console.log(
      `\n${wide} ÷ ${routed}, CPU per published message: ${
        (perMessage[wide] / perMessage[routed]).toFixed(2)
      }×`,
    );
  }
}

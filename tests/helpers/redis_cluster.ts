/**
 * A throwaway Redis Cluster: three masters and three replicas of `redis-server` on free
 * loopback ports, made with `redis-cli --cluster create`, keeping nothing but their node
 * files, in a temporary folder removed on stop.
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child } from "./child.ts";
import { within } from "./client.ts";
import { freePort } from "./redis.ts";

/** A running cluster: its nodes by port, and how to ask or stop them. */
export interface RedisCluster {
  readonly ports: number[];
  /** The running nodes, by port (a killed one is gone). */
  readonly nodes: Map<number, Child>;
  /** Runs `redis-cli -p <port> <args>` and returns what it printed (15 s bound). */
  cli(port: number, ...args: string[]): string;
  /** The port of the master serving `slot`. */
  masterOf(slot: number): number;
  /** Stops every node and removes the folder. */
  stop(): Promise<void>;
}

/** Starts six nodes, creates the cluster and waits until every node says it is ok. */
export async function startCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "wsport-cluster-"));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    if (!ports.includes(port) && port < 55_535) ports.push(port);
  }
  const nodes = new Map<number, Child>();
  const cli = (port: number, ...args: string[]) => {
    const run = spawnSync("redis-cli", ["-p", String(port), ...args], { timeout: 15_000 });
    return String(run.stdout) + String(run.stderr);
  };
  const cluster: RedisCluster = {
    ports,
    nodes,
    cli,
    masterOf(slot) {
      const alive = [...nodes.keys()][0];
      for (const line of cli(alive, "cluster", "nodes").split("\n")) {
        const [, address, flags, , , , , , ...ranges] = line.split(" ");
        if (!flags?.includes("master") || flags.includes("fail")) continue;
        for (const range of ranges) {
          const [from, to = from] = range.split("-").map(Number);
          if (slot >= from && slot <= to) return Number(address.split(/[:@]/)[1]);
        }
      }
      throw new Error(`No master serves slot ${slot}`);
    },
    async stop() {
      await Promise.all([...nodes.values()].map((node) => node.kill("SIGKILL")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(ports.map(async (port) => {
      const node = new Child([
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "1000",
        // A replica takes over however long ago it last heard its master.
        "--cluster-replica-validity-factor",
        "0",
        "--dir",
        dir,
      ]);
      nodes.set(port, node);
      await node.printed("Ready to accept connections");
    }));
    const create = spawnSync("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ], { timeout: 30_000 });
    if (create.status !== 0) {
      throw new Error(`redis-cli --cluster create: ${create.stdout}${create.stderr}`);
    }
    await clusterOk(cluster);
    await replicasInSync(cluster);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * Resolves once three replicas say their link to their master is up (20 s bound): until
 * then a replica has none of its master's data, and a failover would lose all of it.
 */
async function replicasInSync(cluster: RedisCluster): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const infos = cluster.ports.map((port) => cluster.cli(port, "info", "replication"));
    const linked = infos.filter((info) => info.includes("master_link_status:up"));
    if (linked.length >= 3) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The replicas did not sync with their masters in 20 s");
}

/** Resolves once every running node says `cluster_state:ok` (20 s bound). */
export async function clusterOk(cluster: RedisCluster): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const states = [...cluster.nodes.keys()].map((port) => cluster.cli(port, "cluster", "info"));
    if (states.every((info) => info.includes("cluster_state:ok"))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The cluster did not reach cluster_state:ok in 20 s");
}

/** Resolves once `done()` holds, checked every 20 ms, within `ms`. */
export function eventually(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => done() ? resolve() : setTimeout(check, 20);
      check();
    }),
    what,
    ms,
  );
}

/** What {@linkcode failoverMidStream} drives: a backplane and what its process received. */
export interface ClusterMember {
  readonly backplane: { publish(topic: string, data: string): void; readonly status?: string };
  /** `"<topic> <data>"` of each message delivered. */
  readonly received: string[];
  readonly statuses: readonly string[];
}

/**
 * Publishes numbered messages on `topic` from `members[0]` every 20 ms while the master
 * serving `slot` is SIGKILLed: waits for 5 to reach `members[1]`, the kill, a "down"
 * reported there, the cluster healthy again, every backplane "up", and a number past
 * those sent before that. Stops publishing and gives the count sent.
 * @param afterMs How long the messages after the failover may take to arrive.
 */
export async function failoverMidStream(
  cluster: RedisCluster,
  members: readonly ClusterMember[],
  topic: string,
  slot: number,
  afterMs?: number,
): Promise<number> {
  const victim = cluster.masterOf(slot);
  let sent = 0;
  const sender = setInterval(() => members[0].backplane.publish(topic, String(++sent)), 20);
  try {
    await eventually("some before", () => members[1].received.length >= 5);
    await cluster.nodes.get(victim)!.kill("SIGKILL");
    cluster.nodes.delete(victim);
    await eventually("down reported", () => members[1].statuses.includes("down"), 15_000);
    await clusterOk(cluster);
    await eventually(
      "up again",
      () => members.every((m) => m.backplane.status === "up"),
      30_000,
    );
    const lastBefore = sent;
    await eventually(
      "after",
      () => members[1].received.some((line) => Number(line.split(" ")[1]) > lastBefore + 5),
      afterMs,
    );
  } finally {
    clearInterval(sender);
  }
  return sent;
}

/**
 * A Redis backplane on node-redis, as an application wires it: the one place tests and
 * test servers connect a `RedisBackplane` or a `RedisStreamsBackplane` to a Redis.
 * @module
 */

import { createClient, createCluster } from "redis";
import { RedisBackplane, type RedisBackplaneOptions } from "../../src/backplane/redis.ts";
import {
  RedisStreamsBackplane,
  type RedisStreamsBackplaneOptions,
} from "../../src/backplane/redis_streams.ts";

/** Which backplane: Redis pub/sub or Redis Streams. */
export type BackplaneKind = "pubsub" | "streams";

/** A backplane and the node-redis clients under it. */
export interface ConnectedBackplane {
  readonly backplane: RedisBackplane | RedisStreamsBackplane;
  /** What the node-redis clients reported (a lost connection, say). */
  readonly clientErrors: unknown[];
  /** Closes the backplane, then its clients. */
  close(): Promise<void>;
}

/**
 * Connects two node-redis clients to `url` (they reconnect within half a second; their
 * errors are collected in `clientErrors`, the backplane reports its own) and makes a
 * backplane of `kind` on them.
 */
export async function connectBackplane(
  url: string,
  kind: BackplaneKind,
  options: RedisBackplaneOptions & RedisStreamsBackplaneOptions = {},
): Promise<ConnectedBackplane> {
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
  });
  const second = client.duplicate();
  const clientErrors: unknown[] = [];
  client.on("error", (error: unknown) => clientErrors.push(error));
  second.on("error", (error: unknown) => clientErrors.push(error));
  await Promise.all([client.connect(), second.connect()]);
  const {
    channel,
    routing,
    sharded,
    maxChannelsPerCommand,
    onResubscribe,
    stream,
    partitions,
    retention,
    batchSize,
    ...shared
  } = options;
  const backplane = kind === "streams"
    ? new RedisStreamsBackplane({
      call: (command) => client.sendCommand(command),
      block: (command) => second.sendCommand(command),
    }, { ...shared, stream, partitions, retention, batchSize })
    : new RedisBackplane({
      publish: (channel, message) => client.publish(channel, message),
      subscribe: (channels, listener) => second.subscribe(channels, listener),
      unsubscribe: (channels) => second.unsubscribe(channels),
    }, { ...shared, channel, routing, sharded, maxChannelsPerCommand, onResubscribe });
  return {
    backplane,
    clientErrors,
    close: async () => {
      await backplane.close();
      await Promise.all([client.destroy(), second.destroy()]);
    },
  };
}

/**
 * Connects a node-redis cluster client to the Redis Cluster that has a node on `port`,
 * and makes a sharded `RedisStreamsBackplane` on it, reading each partition on a copy of
 * the client of its own that connects only to the node it needs.
 */
export async function connectClusterStreams(
  port: number,
  options: RedisStreamsBackplaneOptions = {},
): Promise<ConnectedBackplane & { readonly backplane: RedisStreamsBackplane }> {
  const cluster = createCluster({
    rootNodes: [{ url: `redis://127.0.0.1:${port}` }],
    // While a node does not answer, look up the topology again every 500 ms.
    topologyRefreshOnReconnectionAttemptStrategy: 500,
    defaults: { socket: { reconnectStrategy: () => 100, connectTimeout: 500 } },
  });
  const clientErrors: unknown[] = [];
  cluster.on("error", (error: unknown) => clientErrors.push(error));
  await cluster.connect();
  const readers = new Map<string, Promise<typeof cluster>>();
  const reader = (key: string) => {
    let copy = readers.get(key);
    if (copy === undefined) {
      const client = cluster.duplicate({ minimizeConnections: true });
      client.on("error", (error: unknown) => clientErrors.push(error));
      readers.set(key, copy = client.connect());
    }
    return copy;
  };
  const backplane = new RedisStreamsBackplane({
    call: (command, key) => cluster.sendCommand(key, false, command),
    block: async (command, key) => (await reader(key)).sendCommand(key, false, command),
  }, { ...options, sharded: true });
  return {
    backplane,
    clientErrors,
    close: async () => {
      await backplane.close();
      const copies = await Promise.all([...readers.values()].map((copy) => copy.catch(() => {})));
      for (const copy of copies) copy?.destroy();
      cluster.destroy();
    },
  };
}

/**
 * A Redis backplane on node-redis, as an application wires it: the one place tests and
 * test servers connect a `RedisBackplane` or a `RedisStreamsBackplane` to a Redis.
 * @module
 */

import { createClient } from "redis";
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
    retention,
    batchSize,
    ...shared
  } = options;
  const backplane = kind === "streams"
    ? new RedisStreamsBackplane({
      call: (command) => client.sendCommand(command),
      block: (command) => second.sendCommand(command),
    }, { ...shared, stream, retention, batchSize })
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

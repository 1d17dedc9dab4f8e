/**
 * The Redis backplanes, to share a site's topics between processes, each on the Redis
 * client you already use (wsport keeps no runtime dependency): {@linkcode RedisBackplane}
 * on Redis pub/sub (light, at most once; interest-based routing, Redis Cluster's sharded
 * pub/sub) and {@linkcode RedisStreamsBackplane} on Redis streams (every message once, in
 * one order per topic, across outages shorter than the retention; topics spread over
 * partitions that each process reads only while it has their subscribers, on one Redis or
 * a Redis Cluster). A site takes either as its `backplane` option.
 *
 * @example A site sharing its topics through Redis pub/sub, with node-redis
 * ```ts ignore
 * import { WebSocketSite } from "wsport";
 * import { RedisBackplane } from "wsport/redis";
 * import { createClient } from "redis";
 *
 * const publisher = createClient({ url: "redis://127.0.0.1:6379" });
 * const subscriber = publisher.duplicate();
 * await Promise.all([publisher.connect(), subscriber.connect()]);
 * const backplane = new RedisBackplane({
 *   publish: (channel, message) => publisher.publish(channel, message),
 *   subscribe: (channels, listener) => subscriber.subscribe(channels, listener),
 *   unsubscribe: (channels) => subscriber.unsubscribe(channels),
 * }, { channel: "myapp:prod" });
 * const site = new WebSocketSite(undefined, { backplane });
 * ```
 * @module
 */

export type { BackplaneStatus, LifecycleOptions } from "./src/backplane/lifecycle.ts";
export {
  RedisBackplane,
  type RedisBackplaneOptions,
  type RedisPubSub,
} from "./src/backplane/redis.ts";
export {
  type RedisStreamCommands,
  RedisStreamsBackplane,
  type RedisStreamsBackplaneOptions,
  type StreamRetention,
} from "./src/backplane/redis_streams.ts";
export { TrimmedError } from "./src/backplane/trimmed_error.ts";

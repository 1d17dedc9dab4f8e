/**
 * Which partition of a partitioned Redis stream holds a topic, and each partition's keys.
 * @module
 */

import { clusterSlot } from "./cluster_slot.ts";
import { topicChannel } from "./topic_channel.ts";

/**
 * The partition, from 0 to `partitions - 1`, that holds `topic`'s messages: a stable
 * hash of its name (the CRC16 of Redis Cluster, over the name escaped as
 * `topicChannel()` escapes it, so no hash tag in a topic picks its partition), the same
 * in every process and every release.
 *
 * @example
 * ```ts
 * import { streamPartition } from "./stream_partition.ts";
 * streamPartition("room:1", 16); // a number from 0 to 15, the same everywhere
 * streamPartition("room:1", 1); // 0
 * ```
 */
export function streamPartition(topic: string, partitions: number): number {
  return partitions === 1 ? 0 : clusterSlot(topicChannel("", topic)) % partitions;
}

/**
 * The key of partition `index` of the stream `stream` cut in `partitions`:
 * `<stream>:{<index>}`, a hash tag of its own, so that on a Redis Cluster each partition
 * lives in its own slot; or `stream` itself when there is one partition (the key of
 * wsport's streams backplane before partitions).
 *
 * @example
 * ```ts
 * import { partitionKey } from "./stream_partition.ts";
 * partitionKey("myapp", 3, 16); // "myapp:{3}"
 * partitionKey("myapp", 0, 1); // "myapp"
 * ```
 */
export function partitionKey(stream: string, index: number, partitions: number): string {
  return partitions === 1 ? stream : `${stream}:{${index}}`;
}

/**
 * The key where the streams backplane keeps the count of entries ever added to the stream
 * at `key`: in the same cluster slot, `<key>:n` when `key` has a hash tag, else
 * `{<key>}:n` (whose hash tag is `key` itself).
 *
 * @example
 * ```ts
 * import { countKey } from "./stream_partition.ts";
 * countKey("myapp:{3}"); // "myapp:{3}:n"
 * countKey("myapp"); // "{myapp}:n"
 * ```
 */
export function countKey(key: string): string {
  return /\{[^}]+\}/.test(key) ? `${key}:n` : `{${key}}:n`;
}

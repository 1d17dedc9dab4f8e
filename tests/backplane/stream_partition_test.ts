/**
 * `streamPartition()` and `partitionKey()`: a topic's partition is stable, in range and
 * spread, no hash tag in a topic picks it, and each partition's key is a cluster slot of
 * its own, or the stream itself when there is one partition.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterSlot } from "../../src/backplane/cluster_slot.ts";
import { countKey, partitionKey, streamPartition } from "../../src/backplane/stream_partition.ts";

test("streamPartition() is in range, the same on every call, and spreads topics", () => {
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 1_600; i++) {
    const partition = streamPartition(`user:${i}`, 16);
    assert.ok(Number.isInteger(partition) && partition >= 0 && partition < 16);
    assert.equal(streamPartition(`user:${i}`, 16), partition);
    counts[partition]++;
  }
  assert.ok(Math.min(...counts) > 50, `uneven: ${counts}`);
  assert.equal(streamPartition("anything", 1), 0);
});

test("streamPartition() is not picked by a hash tag in the topic", () => {
  const partitions = new Set(
    Array.from({ length: 64 }, (_, i) => streamPartition(`{same}${i}`, 16)),
  );
  assert.ok(partitions.size > 1);
});

test("partitionKey() gives each partition a hash tag, and one partition the stream's name", () => {
  assert.equal(partitionKey("app", 3, 16), "app:{3}");
  assert.equal(partitionKey("app", 0, 1), "app");
  for (let i = 0; i < 16; i++) {
    assert.equal(clusterSlot(partitionKey("app", i, 16)), clusterSlot(String(i)));
  }
});

test("countKey() is in the slot of its stream's key", () => {
  for (const key of ["app:{3}", "app", "wsport:stream", "a{b}c"]) {
    assert.equal(clusterSlot(countKey(key)), clusterSlot(key), key);
    assert.notEqual(countKey(key), key);
  }
  assert.equal(countKey("app:{3}"), "app:{3}:n");
  assert.equal(countKey("app"), "{app}:n");
});

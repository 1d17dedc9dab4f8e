/** `clusterSlot()` against the Redis Cluster specification's examples. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterSlot } from "../../src/backplane/cluster_slot.ts";

test("clusterSlot() gives CRC16 modulo 16384, the specification's test vector", () => {
  assert.equal(clusterSlot("123456789"), 0x31c3);
  assert.equal(clusterSlot("somekey"), 11058); // the CLUSTER KEYSLOT page
  assert.equal(clusterSlot("foo{hash_tag}"), 2515);
  assert.equal(clusterSlot(""), 0);
});

test("clusterSlot() hashes only a non-empty hash tag", () => {
  assert.equal(clusterSlot("{user1000}.following"), clusterSlot("user1000"));
  assert.equal(clusterSlot("foo{}{bar}"), clusterSlot("foo{}{bar}"));
  assert.notEqual(clusterSlot("foo{}{bar}"), clusterSlot("bar"));
  assert.equal(clusterSlot("foo{{bar}}zap"), clusterSlot("{bar"));
  assert.equal(clusterSlot("foo{bar}{zap}"), clusterSlot("bar"));
});

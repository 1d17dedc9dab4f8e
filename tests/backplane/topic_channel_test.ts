/** `topicChannel()`: escaping and bounding topic names in channel names. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_TOPIC_CHANNEL_CHARS, topicChannel } from "../../src/backplane/topic_channel.ts";

test("topicChannel() escapes %, braces and control characters, one-to-one", () => {
  assert.equal(topicChannel("app", "room"), "app:room");
  assert.equal(topicChannel("app", "room:{1}"), "app:room:%7B1%7D");
  assert.equal(topicChannel("app", "a%7B"), "app:a%257B");
  assert.equal(topicChannel("app", "a\nb\x7f"), "app:a%0Ab%7F");
  assert.equal(topicChannel("app", ""), "app:");
  const topics = ["{", "%7B", "%", "%25", "a:b", "a", ":a", "é", "\u0000"];
  const channels = new Set(topics.map((topic) => topicChannel("app", topic)));
  assert.equal(channels.size, topics.length);
  for (const channel of channels) assert.ok(!/[{}]/.test(channel), channel);
});

test("topicChannel() cuts a huge topic name and hashes it, so Redis keeps a bounded name", () => {
  const huge = "x".repeat(1_000_000);
  const channel = topicChannel("app", huge);
  assert.ok(channel.length <= "app:".length + MAX_TOPIC_CHANNEL_CHARS, `${channel.length}`);
  assert.match(channel, /^app:x{96}%~[0-9a-f]{16}$/);
  assert.notEqual(topicChannel("app", huge + "y"), channel);
  assert.equal(topicChannel("app", "y".repeat(MAX_TOPIC_CHANNEL_CHARS)).length, 4 + 128);
});

/**
 * Replay for reconnecting clients on every adapter this runtime offers: a client that
 * disconnects mid-stream and subscribes again `since` the last id it saw gets the rest
 * once, then live messages; and a subscription `since` what the site no longer keeps says
 * so. Also `ReplayWindow`'s bounds, without a network.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PER_ITEM_BYTES } from "../../src/core/retained_bytes.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { compareIds, ReplayWindow } from "../../src/site/replay.ts";
import { type SiteOptions, WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client } from "../helpers/client.ts";
import { pairs, withSite, wsUrl } from "../helpers/server.ts";

/**
 * A site whose `/room?since=<id>` subscribes to "room" since that id, then writes
 * "gap" if messages may be missing and "joined"; each message reaches subscribers as
 * `<id> <text>`.
 */
function roomSite(options: SiteOptions = {}): WebSocketSite {
  const site = new WebSocketSite(undefined, {
    ...options,
    encodePublished: (data, id) => `${id} ${data}`,
  });
  class Member extends WebSocketHandler {
    constructor(transport: Transport) {
      super(transport);
      const since = new URL(transport.request.url).searchParams.get("since") ?? undefined;
      if (!transport.subscribe("room", { since })) transport.write("gap");
      transport.write("joined");
    }
  }
  site.addHandler("/room", Member);
  return site;
}

/** Messages until "joined", then `count` more: what a (re)joining client reads. */
async function read(client: Client, count: number): Promise<string[]> {
  const got: string[] = [];
  for (let message = await client.next(); message !== "joined"; message = await client.next()) {
    got.push(String(message));
  }
  for (let i = 0; i < count; i++) got.push(String(await client.next()));
  return got;
}

const text = (messages: string[]) => messages.map((message) => message.split(" ")[1] ?? message);
const idOf = (message: string) => message.split(" ")[0];

for (const pair of pairs) {
  test(`subscribe since the last id on ${pair.name} delivers the rest once, then live ones`, async () => {
    const site = roomSite();
    await withSite(site, pair, async (server) => {
      const first = await Client.open(wsUrl(server, "/room"));
      assert.deepEqual(await read(first, 0), []);
      for (const n of [1, 2, 3]) site.publish("room", `m${n}`);
      const seen = (await first.take(3)).map(String);
      assert.deepEqual(text(seen), ["m1", "m2", "m3"]);
      await first.closeAndWait();
      for (const n of [4, 5, 6]) site.publish("room", `m${n}`);
      const since = idOf(seen[2]);
      const again = await Client.open(wsUrl(server, `/room?since=${since}`));
      const replayed = await read(again, 0);
      site.publish("room", "m7");
      const live = String(await again.next());
      assert.deepEqual(text([...replayed, live]), ["m4", "m5", "m6", "m7"]);
      const ids = [...seen, ...replayed, live].map(idOf);
      for (let i = 1; i < ids.length; i++) assert.ok(compareIds(ids[i - 1], ids[i]) < 0, ids[i]);
      site.publish("room", "m8");
      assert.equal(text([String(await again.next())])[0], "m8", "nothing twice");
      await again.closeAndWait();
    });
  });

  test(`subscribe since an id no longer kept on ${pair.name} says so, then sends what is kept`, async () => {
    const site = roomSite({ replay: { maxMessages: 2 } });
    await withSite(site, pair, async (server) => {
      const first = await Client.open(wsUrl(server, "/room"));
      await read(first, 0);
      site.publish("room", "m1");
      const since = idOf(String(await first.next()));
      await first.closeAndWait();
      for (const n of [2, 3, 4]) site.publish("room", `m${n}`);
      const again = await Client.open(wsUrl(server, `/room?since=${since}`));
      assert.deepEqual(text(await read(again, 0)), ["m3", "m4", "gap"]);
      await again.closeAndWait();
    });
  });
}

test("ReplayWindow keeps maxMessages per topic and maxBytes in all, and knows what it dropped", () => {
  // Each "m<n>" on a one-letter topic is charged 2 × 2 + 2 + 512 bytes.
  const window = new ReplayWindow({ maxMessages: 3, maxBytes: 3 * 518 }, "1-0");
  const keep = (topic: string, n: number) => window.record(topic, `1-${n}`, `m${n}`);
  for (const n of [1, 2, 3]) keep("a", n);
  assert.deepEqual(window.since("a", "1-0").messages.map((m) => m.data), ["m1", "m2", "m3"]);
  assert.equal(window.since("a", "1-0").complete, true);
  keep("b", 4); // Over maxBytes: a's oldest goes.
  assert.deepEqual(window.since("a", "1-0").messages.map((m) => m.data), ["m2", "m3"]);
  assert.equal(window.since("a", "1-0").complete, false);
  assert.equal(window.since("a", "1-1").complete, true);
  assert.equal(window.since("b", "0-9").complete, false, "before the window started");
  assert.deepEqual(window.since("b", "1-3").messages.map((m) => m.data), ["m4"]);
});

test("ReplayWindow charges each message what it holds: data as stored, topic, bookkeeping", () => {
  const window = new ReplayWindow({ maxBytes: 1 << 30 }, "1-0");
  const charge = (topic: string, data: string | Uint8Array) => {
    const before = window.bytes;
    window.record(topic, `1-${window.bytes}`, data);
    return window.bytes - before;
  };
  assert.equal(charge("t", "héllo"), 2 * 5 + 2 + PER_ITEM_BYTES, "two bytes a character");
  assert.equal(charge("topic", ""), 2 * 5 + PER_ITEM_BYTES);
  const read = new Uint8Array(65536);
  const bytes = (size: number) => size + 2 + 2 * PER_ITEM_BYTES;
  assert.equal(charge("t", read.subarray(0, 100)), bytes(100), "copied");
  assert.equal(charge("t", read.subarray(0, 40_000)), bytes(65536), "pins it all");
});

test("ReplayWindow holds nothing of a message dropped past maxMessages", () => {
  const window = new ReplayWindow({ maxMessages: 2 }, "1-0");
  for (let n = 1; n <= 1000; n++) window.record("t", `1-${n}`, "x".repeat(1000));
  assert.equal(window.bytes, 2 * (2000 + 2 + PER_ITEM_BYTES));
  assert.deepEqual(window.since("t", "1-990").messages.length, 2);
});

test("ReplayWindow does not keep a message larger than maxBytes, and says it is missing", () => {
  const window = new ReplayWindow({ maxBytes: 1000 }, "1-0");
  window.record("t", "1-1", "small");
  window.record("t", "1-2", "x".repeat(600));
  assert.deepEqual(window.since("t", "1-0").messages.map((m) => m.data), ["small"]);
  assert.equal(window.since("t", "1-0").complete, false);
  assert.equal(window.since("t", "1-2").complete, true);
});

test("ReplayWindow.since() with a backplane's ids: past the newest holds back, before the first misses", () => {
  const window = new ReplayWindow({}, undefined);
  assert.deepEqual(window.since("t", "5-1"), { messages: [], complete: false, floor: "5-1" });
  window.record("t", "7-1", "a");
  window.record("t", "7-2", "b");
  assert.deepEqual(window.since("t", "9-0"), { messages: [], complete: true, floor: "9-0" });
  const early = window.since("t", "6-0");
  assert.deepEqual([early.messages.map((m) => m.data), early.complete, early.floor], [
    ["a", "b"],
    false,
    "7-2",
  ]);
  assert.deepEqual(window.since("t", "junk"), { messages: [], complete: false, floor: undefined });
});

test("ReplayWindow.since() with its own ids places only those it gave", () => {
  const window = new ReplayWindow({}, "100-0");
  window.record("t", "100-1", "a");
  window.record("t", "100-2", "b");
  const placed = window.since("t", "100-1");
  assert.deepEqual([placed.messages.map((m) => m.data), placed.complete, placed.floor], [
    ["b"],
    true,
    "100-2",
  ]);
  for (const foreign of ["100-3", "101-0", "99-7"]) {
    assert.deepEqual(window.since("t", foreign), {
      messages: [],
      complete: false,
      floor: undefined,
    });
  }
});

test("compareIds orders ms-seq ids by time, then sequence", () => {
  assert.ok(compareIds("1-2", "1-10") < 0);
  assert.ok(compareIds("2-0", "1-99") > 0);
  assert.equal(compareIds("5-5", "5-5"), 0);
  assert.ok(compareIds("junk", "0-0") < 0);
});

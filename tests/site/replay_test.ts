/**
 * Replay for reconnecting clients on every adapter this runtime offers: a client that
 * disconnects mid-stream and subscribes again `since` the last id it saw gets the rest
 * once, then live messages; and a subscription `since` what the site no longer keeps says
 * so. Also `ReplayWindow`'s bounds, without a network.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { PreparedMessage } from "../../src/site/message.ts";
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
  const window = new ReplayWindow({ maxMessages: 3, maxBytes: 3 * (64 + 2) }, "1-0");
  const keep = (topic: string, n: number) =>
    window.record(topic, `1-${n}`, new PreparedMessage(`m${n}`));
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

test("compareIds orders ms-seq ids by time, then sequence", () => {
  assert.ok(compareIds("1-2", "1-10") < 0);
  assert.ok(compareIds("2-0", "1-99") > 0);
  assert.equal(compareIds("5-5", "5-5"), 0);
  assert.ok(compareIds("junk", "0-0") < 0);
});

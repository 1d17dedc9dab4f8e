/**
 * The chat example as a process on every adapter: rooms from `?room=`, `/join`, and
 * leaving, with no Redis (one process), and a client coming back `since` its last id.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "../helpers/client.ts";
import { line } from "./chat_line.ts";
import { pairs, startExample } from "../helpers/server.ts";

/** A client in `room`, with the name the chat gave it (from its own "joined" line). */
async function enter(port: number, room?: string): Promise<{ client: Client; name: string }> {
  const query = room === undefined ? "" : `?room=${encodeURIComponent(room)}`;
  const client = await Client.open(`ws://127.0.0.1:${port}/chat${query}`);
  const joined = String(await line(client));
  const match = /^(guest-\d+) joined (.*)$/.exec(joined);
  assert.ok(match, joined);
  assert.equal(match[2], room ?? "lobby");
  return { client, name: match[1] };
}

for (const pair of pairs) {
  test(`the chat example on ${pair.name}: rooms, /join and leaving`, async () => {
    const chat = await startExample("chat", pair.adapter);
    try {
      const page = await fetch(`http://127.0.0.1:${chat.port}/?room=side`);
      assert.match(await page.text(), /\/join name/);
      const a = await enter(chat.port);
      const b = await enter(chat.port, "lobby");
      assert.equal(await line(a.client), `${b.name} joined lobby`);
      const c = await enter(chat.port, "side");

      a.client.send("hi");
      for (const { client } of [a, b]) assert.equal(await line(client), `${a.name}: hi`);

      b.client.send("/join side");
      assert.equal(await line(a.client), `${b.name} left for side`);
      for (const { client } of [b, c]) assert.equal(await line(client), `${b.name} joined side`);

      await c.client.closeAndWait();
      assert.equal(await line(b.client), `${c.name} left`);
      a.client.send("still here");
      assert.equal(await line(a.client), `${a.name}: still here`);

      // b leaves; what it misses comes when it is back since its last id, once.
      a.client.send("/join side");
      const last = String(await b.client.next()).split(" ")[0];
      assert.equal(await line(a.client), `${a.name} joined side`);
      a.client.send("missed one");
      assert.equal(await line(a.client), `${a.name}: missed one`);
      await b.client.closeAndWait();
      assert.equal(await line(a.client), `${b.name} left`);
      a.client.send("missed two");
      assert.equal(await line(a.client), `${a.name}: missed two`);
      const back = await Client.open(
        `ws://127.0.0.1:${chat.port}/chat?room=side&name=${b.name}&since=${last}`,
      );
      const missed = [`${a.name}: missed one`, `${b.name} left`, `${a.name}: missed two`];
      assert.deepEqual(
        [await line(back), await line(back), await line(back), await line(back)],
        [...missed, `${b.name} is back`],
      );
      a.client.send("live");
      assert.equal(await line(back), `${a.name}: live`);
      await a.client.closeAndWait();
      await back.closeAndWait();
    } finally {
      await chat.stop();
    }
  });
}

/**
 * The chat example as a process on every adapter: rooms from `?room=`, `/join`, and
 * leaving, with no Redis (one process).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "../helpers/client.ts";
import { pairs, startExample } from "../helpers/server.ts";

/** A client in `room`, with the name the chat gave it (from its own "joined" line). */
async function enter(port: number, room?: string): Promise<{ client: Client; name: string }> {
  const query = room === undefined ? "" : `?room=${encodeURIComponent(room)}`;
  const client = await Client.open(`ws://127.0.0.1:${port}/chat${query}`);
  const joined = String(await client.next());
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
      assert.equal(await a.client.next(), `${b.name} joined lobby`);
      const c = await enter(chat.port, "side");

      a.client.send("hi");
      for (const { client } of [a, b]) assert.equal(await client.next(), `${a.name}: hi`);

      b.client.send("/join side");
      assert.equal(await a.client.next(), `${b.name} left for side`);
      for (const { client } of [b, c]) assert.equal(await client.next(), `${b.name} joined side`);

      await c.client.closeAndWait();
      assert.equal(await b.client.next(), `${c.name} left`);
      a.client.send("still here");
      assert.equal(await a.client.next(), `${a.name}: still here`);
      for (const { client } of [a, b]) await client.closeAndWait();
    } finally {
      await chat.stop();
    }
  });
}

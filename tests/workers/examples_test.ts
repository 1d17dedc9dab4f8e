/**
 * The example Workers in `examples/workers/`, as `npm run workers:echo` and
 * `npm run workers:chat` start them, under `workerd`, driven by `ws`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EXAMPLE_WORKERS, startWorker } from "../../examples/workers/workerd.ts";
import { Client } from "../helpers/client.ts";
import { skipWorkerd as skip } from "../helpers/workerd.ts";

test("workers:echo serves the page at / and echoes at /echo", { skip }, async () => {
  const worker = await startWorker(EXAMPLE_WORKERS.echo);
  try {
    const page = await fetch(`http://127.0.0.1:${worker.port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /new WebSocket\(new URL\("\/echo"/);
    const client = await Client.open(`ws://127.0.0.1:${worker.port}/echo`);
    client.send("hello");
    assert.equal(await client.next(), "hello");
    await client.closeAndWait();
  } finally {
    await worker.stop();
  }
});

test(
  "workers:chat relays a room's messages to everyone in it, not to other rooms",
  { skip },
  async () => {
    const worker = await startWorker(EXAMPLE_WORKERS.chat);
    const url = (room: string) => `ws://127.0.0.1:${worker.port}/chat?room=${room}`;
    try {
      const ada = await Client.open(url("tea"));
      const adaName = /^(guest-\w+) joined tea$/.exec(String(await ada.next()))![1];
      const bob = await Client.open(url("tea"));
      const bobName = /^(guest-\w+) joined tea$/.exec(String(await bob.next()))![1];
      assert.equal(await ada.next(), `${bobName} joined tea`);
      const elsewhere = await Client.open(url("coffee"));
      assert.match(String(await elsewhere.next()), /^guest-\w+ joined coffee$/);
      ada.send("hi");
      assert.equal(await ada.next(), `${adaName}: hi`);
      assert.equal(await bob.next(), `${adaName}: hi`);
      await bob.closeAndWait();
      assert.equal(await ada.next(), `${bobName} left`);
      ada.send("ping");
      assert.equal(await ada.next(), "pong");
      assert.equal(elsewhere.pending, 0);
      await Promise.all([ada, elsewhere].map((client) => client.closeAndWait()));
    } finally {
      await worker.stop();
    }
  },
);

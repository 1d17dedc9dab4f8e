/**
 * `serve()` as applications use it: the counter example run as its own process on every
 * adapter this runtime offers, and the adapters `serve()` refuses.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Client, within } from "../helpers/client.ts";
import { pairs, runtime, startExample } from "../helpers/server.ts";

for (const pair of pairs) {
  test(`counter example on ${pair.name}: greets, counts to ten, closes with 1000`, async () => {
    const example = await startExample("counter", pair.adapter);
    try {
      assert.match(example.output(), new RegExp(`wsport \\(${pair.adapter} adapter\\) serving`));
      const client = await Client.open(`ws://127.0.0.1:${example.port}/counter`);
      assert.equal(await client.next(), "hello world");
      const replies: string[] = [];
      for (let i = 1; i <= 10; i++) {
        client.send(`message ${i}`);
        replies.push(await client.next() as string);
      }
      const expected = Array.from(
        { length: 9 },
        (_, i) => i % 2 === 0 ? "Now we're even" : "That was odd",
      );
      assert.deepEqual(replies, [...expected, "Enough play"]);
      assert.deepEqual(await within(client.closed, "the counter to close"), {
        code: 1000,
        reason: "",
        wasClean: true,
      });
      await example.printed("Connection closed after 10 frames");
    } finally {
      await example.stop();
    }
  });
}

test(`serve() on ${runtime}: refuses another runtime's adapter and an unknown one`, () => {
  const site = new WebSocketSite();
  for (const adapter of ["deno", "bun"] as const) {
    if (adapter === runtime) continue;
    assert.throws(
      () => serve(site, { port: 0, hostname: "127.0.0.1", adapter }),
      new TypeError(`The "${adapter}" adapter needs ${adapter}; this is ${runtime}`),
    );
  }
  assert.throws(
    () => serve(site, { adapter: "uws" as "node" }),
    new TypeError('Unknown adapter "uws"'),
  );
});

/**
 * A site in a plain Cloudflare Worker (`site.fetch` under `workerd`), driven by `ws`:
 * what every adapter promises, on the Workers runtime.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RunningWorker } from "../../examples/workers/workerd.ts";
import { cases } from "../conformance/cases.ts";
import { Client, rawRequest, upgradeRequest, within } from "../helpers/client.ts";
import { skipWorkerd as skip, startFixture } from "../helpers/workerd.ts";

let worker: RunningWorker;
if (!skip) {
  before(async () => worker = await startFixture());
  after(() => worker.stop());
}

const url = (path: string) => `ws://127.0.0.1:${worker.port}${path}`;

test("workers: an echo of text and binary, and a close the client starts", { skip }, async () => {
  const client = await Client.open(url("/echo"));
  client.send("hello");
  client.send(new Uint8Array([0, 1, 2, 255]));
  assert.deepEqual(await client.take(2), ["hello", new Uint8Array([0, 1, 2, 255])]);
  assert.deepEqual(await client.closeAndWait(4001), { code: 4001, reason: "", wasClean: true });
});

test(
  "workers: the counter example greets, counts to ten and closes with 1000",
  { skip },
  async () => {
    const client = await Client.open(url("/counter"));
    assert.equal(await client.next(), "hello world");
    const replies: unknown[] = [];
    for (let i = 1; i <= 10; i++) {
      client.send(`message ${i}`);
      replies.push(await client.next());
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
    assert.match(worker.output(), /Connection closed after 10 frames/);
  },
);

for (const item of cases.filter((item) => item.id.startsWith("0."))) {
  test(`workers: handshake ${item.id}, ${item.title}`, { skip }, async () => {
    assert.equal(await item.run(worker.port), item.expected);
  });
}

test("workers: refusals carry wsport's bodies, as on every adapter", { skip }, async () => {
  const refused = await rawRequest(
    worker.port,
    upgradeRequest("/echo", { "Sec-WebSocket-Version": "8" }),
  );
  assert.equal(refused.status, 426);
  assert.equal(refused.headers.get("sec-websocket-version"), "13");
  assert.equal(refused.body, "Unsupported WebSocket version: only 13 is supported\n");
  // An offer the route does not speak: upgraded without a subprotocol, as elsewhere.
  const noProtocol = await rawRequest(
    worker.port,
    upgradeRequest("/chat", { "Sec-WebSocket-Protocol": "chat.v3" }),
  );
  assert.equal(noProtocol.status, 101);
  assert.equal(noProtocol.headers.get("sec-websocket-protocol"), null);
  const plain = await rawRequest(worker.port, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal(plain.status, 404);
});

test("workers: the server's first choice among the offered subprotocols", { skip }, async () => {
  const client = await Client.open(url("/chat"), ["chat.v1", "chat.v2"]);
  assert.equal(client.protocol, "chat.v2");
  client.send("hi");
  assert.equal(await client.next(), "hi");
  await client.closeAndWait();
  const older = await Client.open(url("/chat"), ["chat.v1"]);
  assert.equal(older.protocol, "chat.v1");
  await older.closeAndWait();
});

test("workers: onUpgrade refuses with its Response, or gives data", { skip }, async () => {
  const refused = await rawRequest(worker.port, upgradeRequest("/guarded"));
  assert.equal(refused.status, 401);
  assert.equal(refused.body, "Who are you?\n");
  const client = await Client.open(url("/guarded?user=ada"));
  assert.equal(await client.next(), "hello ada");
  await client.closeAndWait();
});

test("workers: a close the handler starts reaches the client with its code", { skip }, async () => {
  const client = await Client.open(url("/closer"));
  client.send("close 4002 bye");
  assert.deepEqual(await within(client.closed, "the close"), {
    code: 4002,
    reason: "bye",
    wasClean: true,
  });
});

test(
  "workers: close() with an invalid code throws, so the handler fails: 1011",
  { skip },
  async () => {
    const client = await Client.open(url("/closer"));
    client.send("close 999 nope");
    assert.deepEqual(await within(client.closed, "the close"), {
      code: 1011,
      reason: "Internal error",
      wasClean: true,
    });
    assert.match(worker.output(), /RangeError: Invalid close code 999/);
  },
);

test(
  "workers: a message over the route's limit, in UTF-8 bytes, closes with 1009",
  { skip },
  async () => {
    const client = await Client.open(url("/small"));
    // 512 euro signs: 512 UTF-16 units, 1,536 bytes.
    client.send("€".repeat(341));
    assert.equal(await client.next(), "€".repeat(341));
    client.send("€".repeat(512));
    assert.deepEqual(await within(client.closed, "the close"), {
      code: 1009,
      reason: "Message too big",
      wasClean: true,
    });
  },
);

test("workers: a topic cannot reach another request's socket; the error goes to onError", {
  skip,
}, async () => {
  const first = await Client.open(url("/room"));
  const second = await Client.open(url("/room"));
  second.send("hello");
  // The sender goes on: the failed send to the first member was reported, not thrown.
  assert.equal(await second.next(), "published hello");
  assert.match(worker.output(), /Cannot perform I\/O on behalf of a different request/);
  assert.equal(first.pending, 0);
  await Promise.all([first, second].map((client) => client.closeAndWait()));
});

/**
 * A second client, independent of `ws` (the other adapter tests' client on Node): Node's
 * own global `WebSocket` (undici), built in since Node 22. Echo of text and binary, the
 * chosen subprotocol, close codes and reasons both ways, and permessage-deflate, which it
 * offers. Node 20 has it only behind `--experimental-websocket`: skipped there. On Deno and
 * Bun the global `WebSocket` is the other tests' client already: skipped there too.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client, type EventSocketClass, within } from "../helpers/client.ts";
import { Echo, pairs, recorder, runtime, withSite, wsUrl } from "../helpers/server.ts";

const GlobalWebSocket = (globalThis as { WebSocket?: EventSocketClass }).WebSocket;

const skip = runtime !== "node"
  ? `on ${runtime} the other tests' client is the global WebSocket already`
  : GlobalWebSocket === undefined
  ? `Node ${process.version} has no global WebSocket (Node 22 and later have)`
  : false;

/** Text of 2-, 3- and 4-byte UTF-8 characters, and bytes of every value. */
const TEXT = "héllo wörld, κόσμε, 你好, 🎉";
const BINARY = Uint8Array.from({ length: 100 * 1024 }, (_, i) => (i * 31 + 7) & 0xff);

for (const pair of pairs) {
  test(`Node's global WebSocket on ${pair.name}: echo, subprotocol, close both ways`, {
    skip,
  }, async () => {
    const { first, Recorded } = recorder();
    const site = new WebSocketSite();
    site.addHandler("/echo", Recorded, { protocols: ["chat.v2", "chat.v1"] });
    site.addHandler(
      "/bye",
      class extends WebSocketHandler {
        constructor(transport: Transport) {
          super(transport);
          transport.close(4001, "done here");
        }
      },
    );
    await withSite(site, pair, async (server) => {
      const client = await Client.open(
        wsUrl(server, "/echo"),
        ["chat.v1", "chat.v2"],
        GlobalWebSocket,
      );
      assert.equal(client.protocol, "chat.v2");
      client.send(TEXT);
      client.send(BINARY);
      assert.deepEqual(await client.take(2), [TEXT, BINARY]);
      client.close(4000, "bye");
      assert.deepEqual(await within(client.closed, "the client to close"), {
        code: 4000,
        reason: "bye",
        wasClean: true,
      });
      assert.deepEqual(await within(first, "connectionLost"), {
        code: 4000,
        reason: "bye",
        wasClean: true,
      });

      const told = await Client.open(wsUrl(server, "/bye"), undefined, GlobalWebSocket);
      assert.deepEqual(await within(told.closed, "the server's close"), {
        code: 4001,
        reason: "done here",
        wasClean: true,
      });
    });
  });

  test(`Node's global WebSocket on ${pair.name}: permessage-deflate both ways`, {
    skip,
  }, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo, { perMessageDeflate: true });
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/echo"), undefined, GlobalWebSocket);
      assert.match(client.extensions, /^permessage-deflate\b/);
      // Above the 1 KiB threshold, so both sides compress; repetitive, so it shrinks.
      const json = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, ok: true })));
      client.send(json);
      client.send(TEXT);
      assert.deepEqual(await client.take(2), [json, TEXT]);
      assert.deepEqual(await client.closeAndWait(), { code: 1000, reason: "", wasClean: true });
    });
  });
}

/**
 * Where Node majors differ under the Node adapter, shown one case a test. Node 26's
 * `node:http` reads an upgrade request's body itself (by Content-Length or chunked) before
 * the `upgrade` event, where Node 20 to 24 hand the body's bytes on as the start of the
 * WebSocket stream; and while that body has not all arrived, Node 26 hands the adapter an
 * `UpgradeStream` (a Duplex) instead of the `net.Socket`. A WebSocket handshake is a GET,
 * which has no body (RFC 6455 §4.1): the adapter refuses such a request with 400 before
 * it upgrades anything, so every major answers alike. These run where Node's own
 * `node:http` serves: on Node, not Deno's or Bun's.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { WebSocketSite } from "../../src/site/site.ts";
import { rawRequest, upgradeRequest } from "../helpers/client.ts";
import { Echo, pairs, runtime, withSite } from "../helpers/server.ts";

const major = Number(process.versions.node.split(".")[0]);
const skip = runtime === "node" ? false : "Node's own node:http differs by major; this is not it";
const pair = pairs.find((pair) => pair.adapter === "node")!;

/** An echo site whose `onError` calls are kept. */
function echoSite(): { site: WebSocketSite; errors: unknown[] } {
  const errors: unknown[] = [];
  const site = new WebSocketSite(undefined, { onError: (error) => errors.push(error) });
  site.addHandler("/echo", Echo);
  return { site, errors };
}

for (const [what, body] of [["a whole body", "hello"], ["a body that has not arrived", ""]]) {
  test(`an upgrade request with ${what} on Node ${major}: 400, no error`, { skip }, async () => {
    const { site, errors } = echoSite();
    await withSite(site, pair, async (server) => {
      const response = await rawRequest(
        server.port,
        upgradeRequest("/echo", { "Content-Length": "5" }) + body,
      );
      assert.equal(response.status, 400);
      assert.match(response.body, /must not have a body/);
      // Node 26's UpgradeStream once made the adapter throw after a 101 (setNoDelay).
      assert.deepEqual(errors.map(String), []);
    });
  });
}

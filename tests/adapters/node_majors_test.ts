/**
 * Where Node majors differ under the Node adapter, shown one case a test. Node 26's
 * `node:http` reads an upgrade request's body itself (by Content-Length or chunked) before
 * the `upgrade` event, where Node 20 to 24 hand the body's bytes on as the start of the
 * WebSocket stream; and while that body has not all arrived, Node 26 hands the adapter an
 * `UpgradeStream` (a Duplex) instead of the `net.Socket`. A WebSocket handshake is a GET,
 * which has no body (RFC 6455 §4.1), so only a broken or hostile client sends one.
 * These run where Node's own `node:http` serves: on Node, not Deno's or Bun's.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { Opcode } from "../../src/core/constants.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { RawClient, upgradeRequest, within } from "../helpers/client.ts";
import { Echo, pairs, runtime, withSite } from "../helpers/server.ts";

const major = Number(process.versions.node.split(".")[0]);
const skip = runtime === "node" ? false : "Node's own node:http differs by major; this is not it";
const pair = pairs.find((pair) => pair.adapter === "node")!;
const decoder = new TextDecoder();

/** An echo site whose `onError` calls are kept. */
function echoSite(): { site: WebSocketSite; errors: unknown[] } {
  const errors: unknown[] = [];
  const site = new WebSocketSite(undefined, { onError: (error) => errors.push(error) });
  site.addHandler("/echo", Echo);
  return { site, errors };
}

test(
  `an upgrade request with a whole body on Node ${major}: the body is ${
    major >= 26 ? "read by node:http" : "the first WebSocket bytes"
  }`,
  { skip },
  async () => {
    const { site, errors } = echoSite();
    await withSite(site, pair, async (server) => {
      const client = await RawClient.connect(server.port);
      client.write(upgradeRequest("/echo", { "Content-Length": "5" }) + "hello");
      assert.equal((await client.responseHead()).status, 101);
      client.sendFrame(Opcode.Text, "hi");
      const frame = await client.nextFrame();
      if (major >= 26) {
        // Node 26 took "hello" as the request's body: the stream starts after it.
        assert.deepEqual([frame.opcode, decoder.decode(frame.payload)], [Opcode.Text, "hi"]);
        client.sendClose(1000);
      } else {
        // "hello" reaches the WebSocket parser: 'h' is 0x68, a frame with RSV bits set.
        assert.equal(frame.opcode, Opcode.Close);
        assert.equal((frame.payload[0] << 8) | frame.payload[1], 1002);
      }
      await within(client.ended, "the connection to end");
      assert.deepEqual(errors, []);
    });
  },
);

// Skipped on Node 26 until the adapter is fixed (seen failing there: "The socket closed",
// with the TypeError in onError); remove the skip with the fix.
test(`an upgrade request whose body has not arrived on Node ${major}: no error`, {
  skip: skip ||
    (major >= 26 &&
      "a known bug: Node 26 hands an UpgradeStream, which has no setNoDelay(), so the Node " +
        "adapter's SocketLink throws a TypeError after the 101 and drops the connection"),
}, async () => {
  const { site, errors } = echoSite();
  await withSite(site, pair, async (server) => {
    const client = await RawClient.connect(server.port);
    client.write(upgradeRequest("/echo", { "Content-Length": "5" }));
    assert.equal((await client.responseHead()).status, 101);
    client.sendFrame(Opcode.Text, "hi");
    const frame = await client.nextFrame();
    assert.deepEqual([frame.opcode, decoder.decode(frame.payload)], [Opcode.Text, "hi"]);
    client.sendClose(1000);
    await within(client.ended, "the connection to end");
    assert.deepEqual(errors.map(String), []);
  });
});

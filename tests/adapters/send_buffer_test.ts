/**
 * `transport.write()` and the send-buffer limit on every adapter this runtime offers: a
 * write that leaves more than `maxSendBufferBytes` buffered fails the connection with
 * 1008 there and then, not on some later check.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Client, within } from "../helpers/client.ts";
import { pairs, recorder, withSite, wsUrl } from "../helpers/server.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

for (const pair of pairs) {
  test(`write() on ${pair.name}: past maxSendBufferBytes fails the connection with 1008 at once`, async () => {
    // Far more than loopback's socket buffers take in one write: most of it stays buffered.
    const big = new Uint8Array(16 * MiB);
    const seen: Record<string, boolean> = {};
    class Writer extends WebSocketHandler {
      override frameReceived(frame: string | Uint8Array): void {
        if (frame === "small") {
          seen.small = this.transport.write(new Uint8Array(64 * KiB));
          seen.openAfterSmall = this.transport.isOpen;
        } else {
          seen.big = this.transport.write(big);
          seen.openAfterBig = this.transport.isOpen;
          seen.after = this.transport.write("after");
        }
      }
    }
    const { first, Recorded } = recorder(Writer);
    const site = new WebSocketSite(undefined, {
      limits: { maxSendBufferBytes: 1 * MiB, closeTimeoutMs: 500 },
    });
    site.addHandler("/ws", Recorded);
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/ws"));
      client.send("small");
      assert.equal((await client.next()).length, 64 * KiB);
      client.send("big");
      const lost = await within(first, "connectionLost");
      assert.deepEqual({ code: lost.code, reason: lost.reason }, {
        code: 1008,
        reason: "Send buffer overflow",
      });
      await within(client.closed, "the client to see the connection end");
    });
    assert.deepEqual(seen, {
      small: true,
      openAfterSmall: true,
      big: true,
      openAfterBig: false,
      after: false,
    });
  });
}

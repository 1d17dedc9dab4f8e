/**
 * The site's `onLifecycle` option: one `"open"` and one `"close"` event per connection,
 * the same on every adapter this runtime offers, and a hook that throws changes nothing
 * but a call to `onError`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CloseInfo } from "../../src/core/connection.ts";
import type { LifecycleEvent } from "../../src/site/lifecycle_event.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { Client, within } from "../helpers/client.ts";
import { deferred, Echo, pairs, withSite, wsUrl } from "../helpers/server.ts";

/** An echo that logs its construction and loss, and closes with 4002 when told "bye". */
function loggingEcho(log: string[]) {
  return class Logged extends Echo {
    constructor(transport: Transport) {
      super(transport);
      log.push("handler made");
    }
    override frameReceived(frame: string | Uint8Array): void {
      if (frame === "bye") this.transport.close(4002, "server bye");
      else super.frameReceived(frame);
    }
    override connectionLost(info: CloseInfo): void {
      log.push(`connectionLost ${info.code}`);
    }
  };
}

/** The fields of an event that do not vary from run to run. */
function fixed(event: LifecycleEvent): Record<string, unknown> {
  const { transport, durationMs: _, ...fields } = event as LifecycleEvent & {
    durationMs?: number;
  };
  assert.equal(fields.remoteAddress, transport.remoteAddress);
  return fields;
}

test("new WebSocketSite() throws a TypeError naming onLifecycle when it is not a function", () => {
  assert.throws(
    () => new WebSocketSite(undefined, { onLifecycle: "log" as never }),
    {
      name: "TypeError",
      message:
        /^new WebSocketSite\(\): option "onLifecycle" must be a function, got the string "log"/,
    },
  );
});

for (const pair of pairs) {
  test(`onLifecycle on ${pair.name}: open, then close with code, reason and duration`, async () => {
    const log: string[] = [];
    const events: LifecycleEvent[] = [];
    const bothClosed = deferred();
    const site = new WebSocketSite(undefined, {
      onLifecycle(event) {
        events.push(event);
        log.push(`${event.type} ${event.route}`);
        if (events.filter((e) => e.type === "close").length === 2) bothClosed.resolve();
      },
    });
    site.addHandler("/chat", loggingEcho(log), { protocols: ["chat.v1"] });
    await withSite(site, pair, async (server) => {
      const byClient = await Client.open(wsUrl(server, "/chat"), ["chat.v1"]);
      byClient.send("hello");
      assert.equal(await byClient.next(), "hello");
      byClient.close(4000, "client bye");
      await within(byClient.closed, "the client's close");
      const byServer = await Client.open(wsUrl(server, "/chat"));
      byServer.send("bye");
      const seen = await within(byServer.closed, "the server's close");
      assert.equal(seen.code, 4002);
      await within(bothClosed.promise, "two close events");
    });
    const [address] = events.map((event) => event.remoteAddress);
    assert.match(address ?? "", /127\.0\.0\.1/);
    const common = { route: "/chat", remoteAddress: address };
    assert.deepEqual(events.map(fixed), [
      { type: "open", ...common, protocol: "chat.v1" },
      {
        type: "close",
        ...common,
        protocol: "chat.v1",
        code: 4000,
        reason: "client bye",
        wasClean: true,
      },
      { type: "open", ...common, protocol: "" },
      { type: "close", ...common, protocol: "", code: 4002, reason: "server bye", wasClean: true },
    ]);
    for (const event of events) {
      if (event.type !== "close") continue;
      assert.ok(Number.isFinite(event.durationMs) && event.durationMs >= 0, `${event.durationMs}`);
      assert.equal(event.transport.isOpen, false);
    }
    assert.deepEqual(log, [
      "open /chat",
      "handler made",
      "close /chat",
      "connectionLost 4000",
      "open /chat",
      "handler made",
      "close /chat",
      "connectionLost 4002",
    ]);
  });

  test(`onLifecycle on ${pair.name}: an error it throws goes to onError, the connection carries on`, async () => {
    const errors: [unknown, Transport | undefined][] = [];
    const lost = deferred<CloseInfo>();
    const site = new WebSocketSite(undefined, {
      onLifecycle(event) {
        throw new Error(`hook failed on ${event.type}`);
      },
      onError: (error, transport) => errors.push([error, transport]),
    });
    site.addHandler(
      "/echo",
      class extends Echo {
        override connectionLost(info: CloseInfo): void {
          lost.resolve(info);
        }
      },
    );
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/echo"));
      client.send("still here");
      assert.equal(await client.next(), "still here");
      await client.closeAndWait(1000);
      assert.equal((await within(lost.promise, "connectionLost")).code, 1000);
    });
    assert.deepEqual(
      errors.map(([error, transport]) => [(error as Error).message, transport !== undefined]),
      [["hook failed on open", true], ["hook failed on close", true]],
    );
    assert.equal(site.stats().routes["/echo"].closeCodes[1000], 1);
  });
}

/**
 * `serve(site, { reusePort: true })`: two servers on one port where the adapter has
 * `SO_REUSEPORT`, a `TypeError` saying what to do instead where it has not.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import type { Server } from "../../src/adapters/server.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { assertRefused, Client, within } from "../helpers/client.ts";
import { type Pair, pairs, runtime, wsUrl } from "../helpers/server.ts";

/** Where each adapter has `reusePort`, as documented on `ServeOptions.reusePort`. */
function refusal(pair: Pair): RegExp | undefined {
  if (pair.adapter === "bun") return undefined;
  if (pair.adapter === "deno") {
    const unstableNet = typeof (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno
      ?.listenDatagram === "function";
    return unstableNet ? undefined : /^reusePort with Deno\.serve needs .*--unstable-net/;
  }
  if (runtime === "bun") return /^The node adapter on Bun has no reusePort/;
  if (runtime === "deno") return undefined;
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
    ? undefined
    : /^reusePort needs Node 22\.12 or later.*node:cluster/;
}

/** A site whose connections say which server they reached. */
function namedSite(name: string): WebSocketSite {
  const site = new WebSocketSite();
  site.addHandler(
    "/who",
    class extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.write(name);
      }
    },
  );
  return site;
}

for (const pair of pairs) {
  const refused = refusal(pair);
  if (refused !== undefined) {
    test(`reusePort on ${pair.name}: refused with a TypeError saying why`, async () => {
      await assert.rejects(
        async () =>
          await serve(namedSite("a"), {
            port: 0,
            hostname: "127.0.0.1",
            adapter: pair.adapter,
            reusePort: true,
          }),
        (error: Error) => error instanceof TypeError && refused.test(error.message),
      );
    });
    continue;
  }
  test(`reusePort on ${pair.name}: two servers share a port and both get connections`, async () => {
    const options = { hostname: "127.0.0.1", adapter: pair.adapter, reusePort: true };
    const servers: Server[] = [];
    try {
      servers.push(await serve(namedSite("a"), { ...options, port: 0 }));
      servers.push(await serve(namedSite("b"), { ...options, port: servers[0].port }));
      assert.equal(servers[1].port, servers[0].port);
      const reached = new Set<string>();
      // The kernel picks a server per connection: 64 connections all reaching the same
      // one would happen about once in 2^63 runs.
      for (let i = 0; i < 64 && reached.size < 2; i++) {
        const client = await Client.open(wsUrl(servers[0], "/who"));
        reached.add(String(await client.next()));
        await client.closeAndWait();
      }
      assert.deepEqual([...reached].sort(), ["a", "b"]);
    } finally {
      for (const server of servers) await within(server.shutdown(), "shutting down");
    }
    await assertRefused(servers[0].port);
  });
}

/**
 * A Hono app on the runtime's own server, with wsport's routes inside it: Hono's handler
 * passes the request and the server's context (Deno's info, Bun's server) to
 * `site.fetch`, and on Bun the server takes `site.websocket`. On Node, Hono runs through
 * `@hono/node-server`, whose `node:http` server `serve(site, { server })` attaches to.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { Client, within } from "../helpers/client.ts";
import { runtime } from "../helpers/server.ts";
import { echoSite, get } from "./attached.ts";

/** The app: its own route, and wsport's `/ws` through `site.fetch`. */
function app(site = echoSite()): Hono {
  const app = new Hono();
  app.get("/hello", (context) => context.text("hello from hono"));
  // Bun answers an upgrade itself (site.fetch gives undefined): Hono needs a Response,
  // which Bun then ignores.
  app.get(
    "/ws",
    async (context) => (await site.fetch(context.req.raw, context.env)) ?? new Response(null),
  );
  return app;
}

/** Checks Hono's route and a WebSocket echo on `/ws`. */
async function check(port: number): Promise<void> {
  assert.deepEqual(await get(port, "/hello"), [200, "hello from hono"]);
  const client = await Client.open(`ws://127.0.0.1:${port}/ws`);
  client.send("through hono");
  assert.equal(await client.next(), "through hono");
  assert.deepEqual(await client.closeAndWait(), { code: 1000, reason: "", wasClean: true });
}

/** The slice of `Deno.serve` used here. */
interface DenoServe {
  serve(
    options: { port: number; hostname: string; onListen(): void },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

/** The slice of `Bun.serve` used here. */
interface BunServe {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request, server: unknown) => Response | Promise<Response>;
    websocket: unknown;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> };
}

test("Hono on deno: Deno.serve(app.fetch) with site.fetch on /ws", {
  skip: runtime === "deno" ? false : "Deno.serve exists only on Deno",
}, async () => {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  const server = deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app().fetch);
  try {
    await check(server.addr.port);
  } finally {
    await within(server.shutdown(), "Deno.serve shutting down");
  }
});

test("Hono on bun: Bun.serve({ fetch: app.fetch, websocket: site.websocket })", {
  skip: runtime === "bun" ? false : "Bun.serve exists only on Bun",
}, async () => {
  const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
  const site = echoSite();
  const server = bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app(site).fetch,
    websocket: site.websocket,
  });
  try {
    await check(server.port);
  } finally {
    await within(server.stop(true), "Bun.serve stopping");
  }
});

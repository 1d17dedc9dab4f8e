/**
 * The types a user meets: `transport.data` is what the route's `onUpgrade` returns, and
 * `site.websocket` is Bun's handler object. The `@ts-expect-error` lines are the test:
 * `npm run check` (deno check and tsc) fails if any of them stops being an error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketHandler, WebSocketSite } from "../../mod.ts";
import type { BunWebSocketHandlers } from "../../mod.ts";

/** A handler whose connections carry a user, set by `onUpgrade`. */
class Chat extends WebSocketHandler<{ user: string }> {
  override frameReceived(message: string | Uint8Array): void {
    const user: string = this.transport.data.user;
    this.transport.write(`${user}: ${message}`);
  }
}

/** A handler whose data is optional: a route may leave `onUpgrade` out. */
class Guest extends WebSocketHandler<{ user: string } | undefined> {}

/** Routes whose `onUpgrade` returns what the handler expects (or a refusal). */
function goodRoutes(site: WebSocketSite): void {
  site.addHandler("/chat", Chat, { onUpgrade: () => ({ user: "ada" }) });
  site.addHandler("/async", Chat, {
    onUpgrade: (request) =>
      Promise.resolve(
        request.headers.has("authorization")
          ? { user: "ada" }
          : new Response("Unauthorized", { status: 401 }),
      ),
  });
  site.addHandler("/guest", Guest);
  site.addHandler("/plain", WebSocketHandler);
  site.addHandler("/any", WebSocketHandler, { onUpgrade: () => ({ anything: 1 }) });
}

/** Routes that must not type-check; the site throws for none of them at run time. */
function badRoutes(site: WebSocketSite): void {
  // @ts-expect-error: the hook's data is not the handler's
  site.addHandler("/wrong", Chat, { onUpgrade: () => ({ id: 1 }) });
  // @ts-expect-error: the hook's data is not the handler's (a number for a string)
  site.addHandler("/wrong-type", Chat, { onUpgrade: () => Promise.resolve({ user: 1 }) });
  // @ts-expect-error: Chat needs data, so its route needs onUpgrade
  site.addHandler("/no-hook", Chat);
  // @ts-expect-error: Chat needs data, so its route needs onUpgrade
  site.addHandler("/no-hook-options", Chat, { maxMessageBytes: 1024 });
}

test("routes typed from onUpgrade to transport.data are added as any route", () => {
  const site = new WebSocketSite();
  goodRoutes(site);
  assert.equal(site.connections.size, 0);
  // The routes the type checker refuses are accepted at run time: types are the only guard.
  assert.doesNotThrow(() => badRoutes(new WebSocketSite()));
});

test("site.websocket is Bun's handler object on Bun, undefined elsewhere", () => {
  const websocket: BunWebSocketHandlers | undefined = new WebSocketSite().websocket;
  if ("Bun" in globalThis) {
    assert.equal(typeof websocket?.message, "function");
    assert.equal(websocket?.sendPings, false);
  } else {
    assert.equal(websocket, undefined);
  }
});

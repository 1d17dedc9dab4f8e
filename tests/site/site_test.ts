/**
 * Routing and the opening handshake on every adapter this runtime offers, and
 * `site.fetch` inside the runtime's own server.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { contentType } from "../../src/files/content_type.ts";
import { files } from "../../src/files/files.ts";
import type { CloseInfo } from "../../src/core/connection.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import { type RequestHead, siteInternals } from "../../src/site/internals.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import type { Transport } from "../../src/site/transport.ts";
import { assertRefused, Client, rawRequest, upgradeRequest, within } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { deferred, Echo, pairs, runtime, withSite, wsUrl } from "../helpers/server.ts";

/** Writes the negotiated subprotocol, then echoes. */
class Protocol extends Echo {
  constructor(transport: Transport) {
    super(transport);
    transport.write(`protocol: "${transport.protocol}"`);
  }
}

const get = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

for (const pair of pairs) {
  test(`plain HTTP on ${pair.name}: the site's HTTP handler answers on the same port`, async () => {
    const site = new WebSocketSite(files(repoRoot));
    site.addHandler("/echo", Echo);
    await withSite(site, pair, async (server) => {
      const file = await rawRequest(server.port, get("/deno.json"));
      assert.equal(file.status, 200);
      assert.equal(file.headers.get("content-type"), contentType("deno.json"));
      const expected = readFileSync(join(repoRoot, "deno.json"), "utf8");
      assert.equal(file.body, expected);
      assert.equal(file.headers.get("content-length"), String(expected.length));
      const listing = await rawRequest(server.port, get("/"));
      assert.equal(listing.status, 200);
      assert.match(listing.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(listing.body, /deno\.json/);
      const echo = await rawRequest(server.port, get("/echo"));
      assert.equal(echo.status, 404, "a plain GET to a WebSocket path goes to the HTTP handler");
      const client = await Client.open(wsUrl(server, "/echo"));
      client.send("and a WebSocket beside it");
      assert.equal(await client.next(), "and a WebSocket beside it");
      await client.closeAndWait();
    });
  });

  test(`unknown path on ${pair.name}: an upgrade gets 404`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo);
    await withSite(site, pair, async (server) => {
      const response = await rawRequest(server.port, upgradeRequest("/nowhere"));
      assert.equal(response.status, 404);
      assert.equal(response.body, "Not Found\n");
    });
  });

  test(`subprotocols on ${pair.name}: the server's preference among the client's offers`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/chat", Protocol, { protocols: ["v2.chat", "v1.chat"] });
    site.addHandler("/plain", Protocol);
    await withSite(site, pair, async (server) => {
      const offers: [string, string, string | null][] = [
        ["/chat", "v1.chat, v2.chat", "v2.chat"],
        ["/chat", "v1.chat, other", "v1.chat"],
        ["/chat", "other", null],
        ["/plain", "v1.chat", null],
      ];
      for (const [path, offer, chosen] of offers) {
        const response = await rawRequest(
          server.port,
          upgradeRequest(path, { "Sec-WebSocket-Protocol": offer }),
        );
        assert.equal(response.status, 101, `${path} offering ${offer}`);
        assert.equal(response.headers.get("sec-websocket-protocol"), chosen, `${path}: ${offer}`);
      }
      const client = await Client.open(wsUrl(server, "/chat"), ["v1.chat", "v2.chat"]);
      assert.equal(client.protocol, "v2.chat");
      assert.equal(await client.next(), 'protocol: "v2.chat"');
      await client.closeAndWait();
      const none = await Client.open(wsUrl(server, "/chat"));
      assert.equal(none.protocol, "");
      assert.equal(await none.next(), 'protocol: ""');
      await none.closeAndWait();
    });
  });

  test(`origins on ${pair.name}: 403 for a refused origin, 101 for an allowed one`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo, { allowedOrigins: ["https://good.example"] });
    await withSite(site, pair, async (server) => {
      const refused = await rawRequest(
        server.port,
        upgradeRequest("/echo", { Origin: "https://evil.example" }),
      );
      assert.equal(refused.status, 403);
      assert.equal(refused.body, "Origin not allowed\n");
      const allowed = await rawRequest(
        server.port,
        upgradeRequest("/echo", { Origin: "https://GOOD.example" }),
      );
      assert.equal(allowed.status, 101);
    });
  });

  test(`onUpgrade on ${pair.name}: a returned Response refuses the upgrade`, async () => {
    const site = new WebSocketSite();
    let opened = 0;
    class Counted extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        opened++;
      }
    }
    site.addHandler("/private", Counted, {
      onUpgrade: (request) =>
        request.headers.get("authorization") === "Bearer secret"
          ? { user: "ada" }
          : new Response("Unauthorized\n", {
            status: 401,
            headers: { "WWW-Authenticate": "Bearer" },
          }),
    });
    await withSite(site, pair, async (server) => {
      const refused = await rawRequest(server.port, upgradeRequest("/private"));
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get("www-authenticate"), "Bearer");
      assert.equal(refused.body, "Unauthorized\n");
      const accepted = await rawRequest(
        server.port,
        upgradeRequest("/private", { Authorization: "Bearer secret" }),
      );
      assert.equal(accepted.status, 101);
    });
    assert.ok(opened <= 1, "only the authorized upgrade made a handler");
  });

  test(`version on ${pair.name}: 426 with Sec-WebSocket-Version: 13 for version 8`, async () => {
    const site = new WebSocketSite();
    site.addHandler("/echo", Echo);
    await withSite(site, pair, async (server) => {
      const response = await rawRequest(
        server.port,
        upgradeRequest("/echo", { "Sec-WebSocket-Version": "8" }),
      );
      assert.equal(response.status, 426);
      assert.equal(response.headers.get("sec-websocket-version"), "13");
    });
  });

  test(`maxMessageBytes on ${pair.name}: 1009 above the route's limit in bytes, others unaffected`, async () => {
    const site = new WebSocketSite(undefined, { onError: () => {} });
    site.addHandler("/small", Echo, { maxMessageBytes: 1024 });
    site.addHandler("/echo", Echo);
    await withSite(site, pair, async (server) => {
      const bystander = await Client.open(wsUrl(server, "/echo"));
      const client = await Client.open(wsUrl(server, "/small"));
      client.send("x".repeat(1024));
      assert.equal(await client.next(), "x".repeat(1024));
      client.send(new Uint8Array(4096));
      const closed = await within(client.closed, "the close after an oversized message");
      assert.deepEqual(closed, tooBig[pair.adapter]);
      // 400 characters, 1200 UTF-8 bytes: the limit counts bytes, not characters.
      const wide = await Client.open(wsUrl(server, "/small"));
      wide.send("\u20ac".repeat(341));
      assert.equal(await wide.next(), "\u20ac".repeat(341));
      wide.send("\u20ac".repeat(400));
      const wideClosed = await within(wide.closed, "the close after an oversized text");
      assert.deepEqual(wideClosed, tooBig[pair.adapter]);
      bystander.send(new Uint8Array(4096));
      assert.deepEqual(await bystander.next(), new Uint8Array(4096));
      await bystander.closeAndWait();
    });
  });

  test(`maxMessageBytes on ${pair.name}: 1009 above the site-wide limit`, async () => {
    const lost = deferred<CloseInfo>();
    class Recorded extends Echo {
      override connectionLost(info: CloseInfo): void {
        lost.resolve(info);
      }
    }
    const site = new WebSocketSite(undefined, { limits: { maxMessageBytes: 1024 } });
    site.addHandler("/echo", Recorded);
    await withSite(site, pair, async (server) => {
      const client = await Client.open(wsUrl(server, "/echo"));
      client.send(new Uint8Array(4096));
      const closed = await within(client.closed, "the close after an oversized message");
      assert.deepEqual(closed, tooBigSiteWide[pair.adapter]);
      // Bun reports the close it made itself as 1006 (see DIFFERENCES.md).
      assert.deepEqual(await within(lost.promise, "connectionLost"), {
        ...closed,
        code: pair.adapter === "bun" ? 1006 : closed.code,
        wasClean: false,
      });
    });
  });
}

for (const pair of pairs) {
  test(`failures on ${pair.name}: an HTTP handler that throws or answers wrong gets a plain 500`, async () => {
    const errors: unknown[] = [];
    const shared = new Response("once\n");
    const answers: Record<string, () => unknown> = {
      "/throw": () => {
        throw new Error("SECRET in the handler");
      },
      "/reject": () => Promise.reject(new Error("SECRET rejected")),
      "/undefined": () => undefined,
      "/string": () => "SECRET string",
      "/shared": () => shared,
    };
    const site = new WebSocketSite(
      (request) => answers[new URL(request.url).pathname]() as Response,
      { onError: (error) => errors.push(error) },
    );
    await withSite(site, pair, async (server) => {
      assert.equal((await rawRequest(server.port, get("/shared"))).body, "once\n");
      const paths = Object.keys(answers);
      for (const path of paths) {
        // As plain HTTP, and as an upgrade to a path with no route (the HTTP handler too).
        for (const request of [get(path), upgradeRequest(path)]) {
          const response = await rawRequest(server.port, request);
          const what = `${path}: ${request.split("\r\n")[0]}`;
          assert.equal(response.status, 500, what);
          assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8", what);
          assert.equal(response.body, "Internal Server Error\n", what);
        }
      }
      assert.equal(errors.length, paths.length * 2);
      assert.match(String(errors[2]), /SECRET rejected/);
      assert.match(String(errors[4]), /TypeError: The HTTP handler's answer must be a Response/);
      // Ours ("already read"), or the runtime's own ("already been consumed") on Deno.serve.
      assert.match(String(errors[8]), /already/);
    });
  });

  test(`failures on ${pair.name}: a throwing check or hook, or an answer it cannot send, refuses with a plain 500`, async () => {
    const errors: unknown[] = [];
    const used = new Response("Unauthorized\n", { status: 401 });
    await used.text();
    const site = new WebSocketSite(undefined, { onError: (error) => errors.push(error) })
      .addHandler("/origin", Echo, {
        allowedOrigins: () => {
          throw new Error("SECRET origin check");
        },
      })
      .addHandler("/hook", Echo, {
        onUpgrade: () => {
          throw new Error("SECRET hook");
        },
      })
      .addHandler("/used", Echo, { onUpgrade: () => used })
      .addHandler("/lookalike", Echo, {
        // A response from another fetch implementation: refused, never taken as data.
        onUpgrade: () => ({ status: 401, headers: {}, arrayBuffer: () => {} }),
      });
    await withSite(site, pair, async (server) => {
      for (const path of ["/origin", "/hook", "/used", "/lookalike"]) {
        const response = await rawRequest(
          server.port,
          upgradeRequest(path, { Origin: "https://a.example" }),
        );
        assert.equal(response.status, 500, path);
        assert.equal(response.body, "Internal Server Error\n", path);
      }
      assert.equal(errors.length, 4);
      assert.match(String(errors[0]), /SECRET origin check/);
      assert.match(String(errors[3]), /must be a Response \(the runtime's global class\)/);
    });
  });

  test(`failures on ${pair.name}: a refusal whose body fails ends that connection only`, async () => {
    const errors: unknown[] = [];
    const site = new WebSocketSite(() => new Response("still here\n"), {
      onError: (error) => errors.push(error),
    }).addHandler("/broken", Echo, {
      onUpgrade: () =>
        new Response(
          new ReadableStream({
            pull() {
              throw new Error("SECRET stream");
            },
          }),
          { status: 401 },
        ),
    });
    await withSite(site, pair, async (server) => {
      await rawRequest(server.port, upgradeRequest("/broken")).catch(() => {});
      const after = await rawRequest(server.port, get("/"));
      assert.equal(after.body, "still here\n");
    });
  });

  test(`failures on ${pair.name}: frameReceived returning null, and an onError that throws, change nothing`, async () => {
    class Loose extends WebSocketHandler {
      override frameReceived(frame: string | Uint8Array) {
        if (frame === "fail") throw new Error("handler failed");
        this.transport.write(frame);
        return null as unknown as void;
      }
    }
    const site = new WebSocketSite(undefined, {
      onError: () => {
        throw new Error("onError failed too");
      },
    }).addHandler("/loose", Loose);
    const logged = console.error;
    console.error = () => {};
    try {
      await withSite(site, pair, async (server) => {
        const client = await Client.open(wsUrl(server, "/loose"));
        client.send("one");
        client.send("two");
        assert.deepEqual(await client.take(2), ["one", "two"]);
        client.send("fail");
        assert.deepEqual(await within(client.closed, "the close after a handler error"), {
          code: 1011,
          reason: "Internal error",
          wasClean: true,
        });
        const next = await Client.open(wsUrl(server, "/loose"));
        next.send("three");
        assert.equal(await next.next(), "three");
        await next.closeAndWait();
      });
    } finally {
      console.error = logged;
    }
  });
}

/** What the client sees when its message is too big, by adapter (see DIFFERENCES.md). */
const tooBig = {
  deno: { code: 1009, reason: "Message too big", wasClean: true },
  bun: { code: 1009, reason: "Message too big", wasClean: true },
  node: { code: 1009, reason: "Message too big", wasClean: true },
};

/** The same when no route allows it: Bun's own `maxPayloadLength` refuses it first. */
const tooBigSiteWide = {
  ...tooBig,
  bun: { code: 1009, reason: "Received too big message", wasClean: true },
};

/** The slice of `Deno.serve` used here. */
interface DenoServe {
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

/** The slice of `Bun.serve` used here. */
interface BunServe {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request, server: unknown) => Promise<Response>;
    websocket: unknown;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> };
}

/** A site with an echo handler and an HTTP handler, for the runtime's own server. */
function fetchSite(): WebSocketSite {
  const site = new WebSocketSite(() => new Response("plain\n"));
  site.addHandler("/echo", Echo);
  return site;
}

/** Checks plain HTTP and a WebSocket echo against a server on `port`. */
async function checkFetchServer(port: number): Promise<void> {
  const plain = await rawRequest(port, get("/"));
  assert.equal(plain.status, 200);
  assert.equal(plain.body, "plain\n");
  const client = await Client.open(`ws://127.0.0.1:${port}/echo`);
  client.send("through site.fetch");
  client.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await client.take(2), ["through site.fetch", new Uint8Array([1, 2, 3])]);
  assert.deepEqual(await client.closeAndWait(), { code: 1000, reason: "", wasClean: true });
}

test("site.fetch on deno: Deno.serve(site.fetch) serves HTTP and upgrades", {
  skip: runtime === "deno" ? false : "Deno.serve exists only on Deno",
}, async () => {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  const server = deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, fetchSite().fetch);
  try {
    await checkFetchServer(server.addr.port);
  } finally {
    await within(server.shutdown(), "Deno.serve shutting down");
  }
  await assertRefused(server.addr.port);
});

test("site.fetch on bun: Bun.serve({fetch, websocket}) serves HTTP and upgrades", {
  skip: runtime === "bun" ? false : "Bun.serve exists only on Bun",
}, async () => {
  const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
  const site = fetchSite();
  const server = bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: site.fetch,
    websocket: site.websocket,
  });
  try {
    await checkFetchServer(server.port);
  } finally {
    await within(server.stop(true), "Bun.serve stopping");
  }
  await assertRefused(server.port);
});

/** A request head as an adapter that parses HTTP itself gives it. */
function requestHead(pathname: string, headers: Record<string, string>): RequestHead {
  const request = new Request(`http://localhost${pathname}`, { headers });
  return { method: "GET", headers: request.headers, pathname, toRequest: () => request };
}

test("decideAtOnce() decides a handshake without a promise unless a hook must be awaited", () => {
  const site = new WebSocketSite();
  site.addHandler("/plain", Echo);
  site.addHandler("/hooked", Echo, { onUpgrade: () => ({}) });
  const internals = siteInternals(site);
  const upgrade = {
    host: "localhost",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
  };
  const accepted = internals.decideAtOnce(requestHead("/plain", upgrade));
  assert.equal(accepted?.kind, "accept");
  assert.equal(accepted.kind === "accept" && accepted.acceptance.key, upgrade["sec-websocket-key"]);
  const refused = internals.decideAtOnce(
    requestHead("/plain", { ...upgrade, "sec-websocket-version": "8" }),
  );
  assert.equal(refused?.kind === "reject" && refused.response.status, 426);
  assert.deepEqual(site.stats().routes["/plain"].refused, { 426: 1 });
  assert.equal(internals.decideAtOnce(requestHead("/hooked", upgrade)), undefined);
  assert.equal(internals.decideAtOnce(requestHead("/plain", {})), undefined);
  assert.equal(internals.decideAtOnce(requestHead("/elsewhere", upgrade)), undefined);
});

/**
 * `serve()` as applications use it: the counter example run as its own process on every
 * adapter this runtime offers, and the adapters `serve()` refuses.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { assertRefused, Client, within } from "../helpers/client.ts";
import { pairs, runtime, startExample } from "../helpers/server.ts";

for (const pair of pairs) {
  test(`counter example on ${pair.name}: greets, counts to ten, closes with 1000`, async () => {
    const example = await startExample("counter", pair.adapter);
    try {
      assert.match(example.output(), new RegExp(`wsport \\(${pair.adapter} adapter\\) serving`));
      const client = await Client.open(`ws://127.0.0.1:${example.port}/counter`);
      assert.equal(await client.next(), "hello world");
      const replies: string[] = [];
      for (let i = 1; i <= 10; i++) {
        client.send(`message ${i}`);
        replies.push(await client.next() as string);
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
      await example.printed("Connection closed after 10 frames");
    } finally {
      await example.stop();
    }
  });
}

test(`serve() on ${runtime}: refuses another runtime's adapter and an unknown one`, () => {
  const site = new WebSocketSite();
  for (const adapter of ["deno", "bun"] as const) {
    if (adapter === runtime) continue;
    assert.throws(
      () => serve(site, { port: 0, hostname: "127.0.0.1", adapter }),
      new TypeError(`The "${adapter}" adapter needs ${adapter}; this is ${runtime}`),
    );
  }
  assert.throws(() => serve(site, { adapter: "uws" as "node" }), {
    name: "TypeError",
    message: 'serve(): option "adapter" must be one of "deno", "bun", "node", got the string "uws"',
  });
});

/** Calls with what the types forbid, as plain JavaScript may. */
const loose = <T>(value: unknown) => value as T;

test("serve() rejects a site that is not a WebSocketSite with a TypeError", () => {
  for (const site of [undefined, "x", {}, () => new Response()]) {
    assert.throws(() => serve(loose(site)), {
      name: "TypeError",
      message: /^serve\(\): the site must be a WebSocketSite, got /,
    });
  }
});

test("serve() rejects options that are not an object, or an unknown option", () => {
  const site = new WebSocketSite();
  assert.throws(() => serve(site, loose(8080)), {
    name: "TypeError",
    message: "serve(): options must be an object, got the number 8080",
  });
  assert.throws(() => serve(site, loose({ prot: 8080 })), {
    name: "TypeError",
    message: 'serve(): unknown option "prot" (did you mean "port"?); the options are port, ' +
      "hostname, adapter, reusePort, signal, tls, path, server",
  });
  assert.throws(() => serve(site, loose({ host: "127.0.0.1" })), {
    name: "TypeError",
    message: /^serve\(\): unknown option "host"/,
  });
});

/** An object with a `node:http` server's methods, as far as the checks look. */
const fakeServer = { on() {}, off() {}, listeners: () => [], address: () => null };

test("serve() rejects each option of the wrong type with a TypeError naming it", () => {
  const site = new WebSocketSite();
  const cases: [Record<string, unknown>, string][] = [
    [{ port: "8080" }, 'option "port" must be an integer from 0 to 65535, got the string "8080"'],
    [{ hostname: 127 }, 'option "hostname" must be a non-empty string'],
    [{ hostname: "" }, 'option "hostname" must be a non-empty string'],
    [{ adapter: "Node" }, 'option "adapter" must be one of "deno", "bun", "node"'],
    [{ reusePort: "yes" }, 'option "reusePort" must be a boolean, got the string "yes"'],
    [{ signal: {} }, 'option "signal" must be an AbortSignal, got an object'],
    [{ signal: new AbortController() }, 'option "signal" must be an AbortSignal'],
    [{ tls: "cert.pem" }, 'option "tls" must be an object, got the string "cert.pem"'],
    [{ tls: { key: "k" } }, 'option "tls.cert" must be PEM text (a non-empty string or'],
    [{ tls: { cert: "c", key: "" } }, 'option "tls.key" must be PEM text'],
    [{ tls: { cert: "c", key: 1 } }, 'option "tls.key" must be PEM text'],
    [{ tls: { cert: "c", key: "k", ca: [1] } }, 'option "tls.ca" must be PEM text'],
    [{ tls: { cert: "c", key: "k", passphrase: 1 } }, 'option "tls.passphrase" must be a string'],
    [{ tls: { cert: "c", key: "k", certificate: "c" } }, 'unknown option "tls.certificate"'],
    [{ path: "" }, 'option "path" must be a non-empty string'],
    [{ path: 8080 }, 'option "path" must be a non-empty string'],
    [{ server: {} }, 'option "server" must be a node:http or node:https Server, got an object'],
    [{ server: 8080 }, 'option "server" must be a node:http or node:https Server'],
    [{ path: "/tmp/ws.sock", port: 8080 }, 'options "path" and "port" cannot be used together'],
    [{ path: "/s", hostname: "::" }, 'options "path" and "hostname" cannot be used together'],
    [{ server: fakeServer, port: 0 }, 'options "server" and "port" cannot be used together'],
    [{ server: fakeServer, path: "/s" }, 'options "server" and "path" cannot be used together'],
    [{ server: fakeServer, tls: { cert: "c", key: "k" } }, 'options "server" and "tls" cannot'],
    [{ server: fakeServer, adapter: "deno" }, 'option "server" (a node:http server) needs the'],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => serve(site, loose(options)), (error: unknown) => {
      assert.ok(error instanceof TypeError, `${JSON.stringify(options)}: ${error}`);
      assert.ok(error.message.startsWith("serve(): "), error.message);
      assert.ok(error.message.includes(message), `${message} in ${error.message}`);
      return true;
    });
  }
});

test("serve() rejects a port out of range with a RangeError naming it", () => {
  const site = new WebSocketSite();
  for (const port of [-1, 65536, 80.5, NaN]) {
    assert.throws(() => serve(site, { port }), {
      name: "RangeError",
      message: `serve(): option "port" must be an integer from 0 to 65535, got the number ${port}`,
    });
  }
});

for (const pair of pairs) {
  test(`serve() on ${pair.name}: a signal aborted already shuts the server down`, async () => {
    const controller = new AbortController();
    controller.abort();
    const server = await serve(new WebSocketSite(), {
      port: 0,
      hostname: "127.0.0.1",
      adapter: pair.adapter,
      signal: controller.signal,
    });
    await within(server.finished, `${pair.name} finishing`);
    await assertRefused(server.port);
  });
}

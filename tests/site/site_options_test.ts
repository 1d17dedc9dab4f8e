/**
 * `new WebSocketSite()` and `addHandler()` check what plain JavaScript may pass: each
 * mistake throws at the call, with the error class and a message naming the option.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backplane } from "../../src/site/backplane.ts";
import { type HandlerClass, WebSocketHandler } from "../../src/site/handler.ts";
import { siteInternals } from "../../src/site/internals.ts";
import { type RouteOptions, type SiteOptions, WebSocketSite } from "../../src/site/site.ts";
import { Echo } from "../helpers/server.ts";

/** Calls with what the types forbid, as plain JavaScript may. */
const loose = <T>(value: unknown) => value as T;

/** Asserts that `call` throws `type` with a message matching every pattern. */
function assertThrows(
  call: () => unknown,
  type: typeof TypeError | typeof RangeError,
  ...patterns: (string | RegExp)[]
): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${error}`);
    assert.equal((error as Error).name, type.name);
    for (const pattern of patterns) {
      if (typeof pattern === "string") {
        assert.ok((error as Error).message.includes(pattern), `${pattern} in ${error}`);
      } else assert.match((error as Error).message, pattern);
    }
    return true;
  });
}

const site = (options: unknown) => new WebSocketSite(undefined, loose<SiteOptions>(options));
const route = (options: unknown, path = "/p", handler: unknown = Echo) =>
  new WebSocketSite().addHandler(path, loose<HandlerClass>(handler), loose<RouteOptions>(options));

test("new WebSocketSite() rejects an HTTP handler that is not a function", () => {
  for (const http of ["x", 5, null, {}]) {
    assertThrows(
      () => new WebSocketSite(loose(http)),
      TypeError,
      "new WebSocketSite(): the HTTP handler must be a function",
    );
  }
  assertThrows(() => new WebSocketSite(loose("x")), TypeError, 'got the string "x"');
});

test("new WebSocketSite() says options go second when they are given first", () => {
  assertThrows(
    () => new WebSocketSite(loose({ onError() {} })),
    TypeError,
    "options go second: new WebSocketSite(undefined, options)",
  );
});

test("new WebSocketSite() rejects options that are not an object", () => {
  for (const options of [null, "x", 5, []]) {
    assertThrows(() => site(options), TypeError, "new WebSocketSite(): options must be an object");
  }
});

test("new WebSocketSite() rejects an unknown option, naming it and the known ones", () => {
  assertThrows(
    () => site({ onerror: () => {} }),
    TypeError,
    'unknown option "onerror" (did you mean "onError"?)',
    "the options are limits, perMessageDeflate, onError, backplane",
  );
  assertThrows(() => site({ port: 8080 }), TypeError, 'unknown option "port"');
});

test("new WebSocketSite() checks each option's type", () => {
  assertThrows(() => site({ limits: 5 }), TypeError, 'option "limits" must be an object');
  assertThrows(() => site({ onError: "log" }), TypeError, 'option "onError" must be a function');
  assertThrows(
    () => site({ perMessageDeflate: "on" }),
    TypeError,
    'option "perMessageDeflate" must be a boolean or an object',
  );
  assertThrows(
    () => site({ perMessageDeflate: { levl: 3 } }),
    TypeError,
    '"perMessageDeflate.levl" (did you mean "perMessageDeflate.level"?)',
  );
  assertThrows(
    () => site({ replay: { maxMessage: 10 } }),
    TypeError,
    'unknown option "replay.maxMessage" (did you mean "replay.maxMessages"?)',
  );
  assertThrows(() => site({ replay: 256 }), TypeError, 'option "replay" must be an object');
  assertThrows(() => site({ replay: { maxBytes: "8M" } }), TypeError, '"replay.maxBytes"');
  for (const backplane of [{}, { publish() {} }, "redis", null]) {
    assertThrows(
      () => site({ backplane }),
      TypeError,
      'new WebSocketSite(): option "backplane" must be a Backplane',
    );
  }
});

test("new WebSocketSite() rejects numbers out of range with a RangeError naming them", () => {
  assertThrows(() => site({ limits: { maxMessageBytes: -1 } }), RangeError, "maxMessageBytes");
  assertThrows(
    () => site({ replay: { maxMessages: -1 } }),
    RangeError,
    'new WebSocketSite(): option "replay.maxMessages" must be an integer of at least 0, got the number -1',
  );
  assertThrows(() => site({ replay: { maxBytes: 1.5 } }), RangeError, '"replay.maxBytes"');
  assertThrows(
    () => site({ perMessageDeflate: { level: 12 } }),
    RangeError,
    'new WebSocketSite(): option "perMessageDeflate.level" must be an integer from 0 to 9',
  );
});

test("new WebSocketSite() takes every option in its accepted forms", () => {
  const backplane: Backplane = { publish() {}, onMessage() {} };
  class ClassBackplane {
    publish() {}
    onMessage() {}
  }
  new WebSocketSite();
  new WebSocketSite(undefined, undefined);
  new WebSocketSite(() => new Response(), {
    limits: { maxMessageBytes: 1024 },
    perMessageDeflate: { level: 1 },
    onError: () => {},
    backplane,
  });
  new WebSocketSite(undefined, { perMessageDeflate: true, backplane: new ClassBackplane() });
  new WebSocketSite(undefined, { limits: undefined, onError: undefined });
  new WebSocketSite(undefined, { replay: { maxMessages: 0, maxBytes: 1 } });
});

test("addHandler() rejects a path that is not a string or does not start with /", () => {
  assertThrows(() => route({}, loose(5)), TypeError, 'the path must be a string starting with "/"');
  assertThrows(
    () => route({}, "chat"),
    TypeError,
    'the path the string "chat" must start with "/"',
  );
});

test("addHandler() rejects a path that can never match, saying why", () => {
  const cases: [string, string][] = [
    ["/p?x=1", 'holds "?"'],
    ["/p#top", 'holds "#"'],
    ["/a b", "holds whitespace"],
    ["/a\tb", "holds whitespace"],
    ["/chat/", 'ends with "/": routes match exactly, so it would not serve "/chat"'],
    ["/a/../b", 'requests for it arrive as "/b"'],
    ["/a/./b", 'requests for it arrive as "/a/b"'],
    ["/a/%2e%2e/b", 'requests for it arrive as "/b"'],
    ["/café", 'requests for it arrive as "/caf%C3%A9"'],
    ["/a\\b", 'requests for it arrive as "/a/b"'],
    ["/a<b>", 'requests for it arrive as "/a%3Cb%3E"'],
  ];
  for (const [path, why] of cases) {
    assertThrows(() => route({}, path), TypeError, "addHandler(): the path", why);
  }
});

test("addHandler() takes paths as the URL parser gives them", () => {
  const site = new WebSocketSite();
  for (const path of ["/", "/chat", "/a/b", "/caf%C3%A9", "/a%20b", "/v1.0/x-y_z~", "//x"]) {
    site.addHandler(path, Echo);
  }
  assert.equal(siteInternals(site).routes.size, 7);
});

test("addHandler() rejects a path that has a handler already", () => {
  const site = new WebSocketSite().addHandler("/p", Echo);
  assertThrows(() => site.addHandler("/p", Echo), TypeError, 'the path "/p" already has a handler');
});

test("addHandler() rejects a handler that is not a class", () => {
  const expected = "the handler must be a class extending WebSocketHandler";
  assertThrows(() => route({}, "/p", () => {}), TypeError, expected, "cannot be called with new");
  assertThrows(() => route({}, "/p", { frameReceived() {} }), TypeError, expected, "an object");
  assertThrows(
    () => new WebSocketSite().addHandler("/p", loose<HandlerClass>(undefined)),
    TypeError,
    expected,
    "got undefined",
  );
  assertThrows(() => route({}, "/p", "Echo"), TypeError, expected, 'got the string "Echo"');
  class Plain {}
  assertThrows(
    () => route({}, "/p", Plain),
    TypeError,
    expected,
    "Plain lacking frameReceived, pongReceived, connectionLost",
  );
});

test("addHandler() takes a class with the handler's methods that does not extend it", () => {
  class Structural {
    frameReceived() {}
    pongReceived() {}
    connectionLost() {}
  }
  function OldStyle() {}
  OldStyle.prototype = Object.create(WebSocketHandler.prototype);
  const site = new WebSocketSite()
    .addHandler("/a", loose<HandlerClass>(Structural))
    .addHandler("/b", loose<HandlerClass>(OldStyle))
    .addHandler("/c", WebSocketHandler);
  assert.equal(siteInternals(site).routes.size, 3);
});

test("addHandler() rejects options that are not an object or an unknown option", () => {
  for (const options of [null, "chat", 5, ["chat"]]) {
    assertThrows(() => route(options), TypeError, "addHandler(): options must be an object");
  }
  assertThrows(
    () => route({ protocol: ["chat"] }),
    TypeError,
    'addHandler(): unknown option "protocol" (did you mean "protocols"?)',
    "the options are protocols, allowedOrigins, perMessageDeflate, maxMessageBytes, limits, " +
      "onUpgrade",
  );
  assertThrows(
    () => route({ origins: ["https://a.example"] }),
    TypeError,
    'unknown option "origins" (did you mean "allowedOrigins"?)',
  );
});

test("addHandler() rejects protocols that are not an array of tokens", () => {
  assertThrows(
    () => route({ protocols: "chat" }),
    TypeError,
    'addHandler(): option "protocols" must be an array of strings (tokens), got the string "chat"',
  );
  for (
    const [protocols, shown] of [[["a b"], '"a b"'], [["a,b"], '"a,b"'], [[""], '""'], [
      ["ok", 7],
      "the number 7",
    ]] as const
  ) {
    assertThrows(
      () => route({ protocols }),
      TypeError,
      /option "protocols\[\d\]" must be a token/,
      shown,
    );
  }
});

test("addHandler() rejects allowedOrigins that are not origins or a function", () => {
  assertThrows(
    () => route({ allowedOrigins: "https://a.example" }),
    TypeError,
    'option "allowedOrigins" must be an array of origins',
    'got the string "https://a.example"',
  );
  const cases: [unknown, string][] = [
    ["https://a.example/", '(did you mean "https://a.example"?)'],
    ["https://a.example:443", '(did you mean "https://a.example"?)'],
    ["https://a.example/app", '(did you mean "https://a.example"?)'],
    ["https://bücher.example", '(did you mean "https://xn--bcher-kva.example"?)'],
    ["a.example", 'got the string "a.example"'],
    [7, "got the number 7"],
  ];
  for (const [origin, shown] of cases) {
    assertThrows(
      () => route({ allowedOrigins: [origin] }),
      TypeError,
      'option "allowedOrigins[0]" must be an origin as browsers send it',
      shown,
    );
  }
});

test("addHandler() checks the types of the other options", () => {
  assertThrows(() => route({ onUpgrade: {} }), TypeError, 'option "onUpgrade" must be a function');
  assertThrows(() => route({ limits: "x" }), TypeError, 'option "limits" must be an object');
  assertThrows(
    () => route({ maxMessageBytes: "1024" }),
    TypeError,
    'option "maxMessageBytes" must be a number',
  );
  assertThrows(() => route({ maxMessageBytes: -1 }), RangeError, "maxMessageBytes");
  assertThrows(() => route({ limits: { closeTimeoutMs: -1 } }), RangeError, "closeTimeoutMs");
  assertThrows(
    () => route({ perMessageDeflate: "on" }),
    TypeError,
    'addHandler(): option "perMessageDeflate" must be a boolean or an object of DeflateOptions',
  );
  assertThrows(
    () => route({ perMessageDeflate: { serverNoContextTakeover: "yes" } }),
    TypeError,
    'addHandler(): option "perMessageDeflate.serverNoContextTakeover" must be a boolean',
  );
  assertThrows(
    () => route({ perMessageDeflate: { memLevel: 0 } }),
    RangeError,
    'addHandler(): option "perMessageDeflate.memLevel" must be an integer from 1 to 9',
  );
});

test("addHandler() takes every option in its accepted forms", () => {
  const site = new WebSocketSite()
    .addHandler("/a", Echo, {
      protocols: ["chat.v1", "chat.v2"],
      allowedOrigins: ["https://a.example", "http://localhost:8080", "HTTPS://B.example", "null"],
      perMessageDeflate: { serverMaxWindowBits: 12 },
      maxMessageBytes: 1024,
      limits: { idleTimeoutMs: 1000 },
      onUpgrade: () => undefined,
    })
    .addHandler("/b", Echo, { allowedOrigins: (origin) => origin.endsWith(".example") })
    .addHandler("/c", Echo, { protocols: [], perMessageDeflate: false })
    .addHandler("/d", Echo, { protocols: undefined, onUpgrade: undefined });
  assert.equal(siteInternals(site).routes.size, 4);
});

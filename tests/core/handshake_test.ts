import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/core/errors.ts";
import {
  acceptHeaders,
  checkHandshake,
  chooseProtocol,
  computeAccept,
  type HandshakeOptions,
  type HandshakeRequest,
  headerList,
} from "../../src/core/handshake.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

const VALID_HEADERS: Record<string, string> = {
  Host: "server.example.com",
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": KEY,
  "Sec-WebSocket-Version": "13",
};

/** A handshake request: the valid one with `changes` applied (`null` removes a header). */
function request(changes: Record<string, string | null> = {}, method = "GET"): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries({ ...VALID_HEADERS, ...changes })) {
    if (value !== null) headers.set(name, value);
  }
  return new Request("http://server.example.com/chat", { method, headers });
}

/** Asserts that the handshake is rejected with `status`, and returns the error. */
function rejected(
  changes: Record<string, string | null>,
  status: number,
  message: string,
  options?: HandshakeOptions,
  method?: string,
): HandshakeError {
  let caught: unknown;
  assert.throws(() => checkHandshake(request(changes, method), options), (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof HandshakeError, `expected a HandshakeError, got ${caught}`);
  assert.equal(caught.status, status);
  assert.equal(caught.message, message);
  return caught;
}

const BAD_UPGRADE = 'The Upgrade header must contain "websocket"';
const BAD_CONNECTION = 'The Connection header must contain "Upgrade"';
const BAD_VERSION = "Unsupported WebSocket version: only 13 is supported";
const BAD_KEY = "Sec-WebSocket-Key must be the base64 of 16 bytes";

describe("RFC 6455 §1.3, §4.2.2 the accept key", () => {
  test("computeAccept() gives RFC 6455 §1.3's accept value for its sample key", async () => {
    assert.equal(await computeAccept(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("checkHandshake() accepts RFC 6455 §1.3's request", () => {
    assert.deepEqual(checkHandshake(request()), { key: KEY, protocol: "", extensions: "" });
  });
});

describe("RFC 6455 §4.2.1 the client request: method, headers, key, origin", () => {
  test("checkHandshake() answers a method other than GET with 405 and Allow: GET", () => {
    for (const method of ["POST", "PUT", "HEAD"]) {
      const error = rejected({}, 405, "A WebSocket handshake must use GET", undefined, method);
      assert.deepEqual(error.headers, { Allow: "GET" });
    }
  });

  test("checkHandshake() answers a missing or wrong Upgrade header with 400", () => {
    rejected({ Upgrade: null }, 400, BAD_UPGRADE);
    rejected({ Upgrade: "h2c" }, 400, BAD_UPGRADE);
    rejected({ Upgrade: "websockets" }, 400, BAD_UPGRADE);
    rejected({ Upgrade: "" }, 400, BAD_UPGRADE);
  });

  test("checkHandshake() answers a missing or wrong Connection header with 400", () => {
    rejected({ Connection: null }, 400, BAD_CONNECTION);
    rejected({ Connection: "keep-alive" }, 400, BAD_CONNECTION);
    rejected({ Connection: "upgraded" }, 400, BAD_CONNECTION);
    rejected({ Connection: "keep-alive upgrade" }, 400, BAD_CONNECTION);
  });

  test("checkHandshake() finds Upgrade and Connection tokens in comma lists, in any case", () => {
    const cases: Record<string, string>[] = [
      { Connection: "keep-alive, Upgrade" },
      { Connection: "Upgrade, keep-alive" },
      { Connection: "keep-alive,upgrade" },
      { Connection: "UPGRADE" },
      { Connection: " , upgrade ,," },
      { Upgrade: "WebSocket" },
      { Upgrade: "WEBSOCKET" },
      { Upgrade: "foo/1, websocket" },
    ];
    for (const changes of cases) {
      assert.equal(checkHandshake(request(changes)).key, KEY, JSON.stringify(changes));
    }
  });

  test("checkHandshake() answers a version other than 13 with 426 and the version it speaks", () => {
    for (const version of ["8", "12", "14", "13, 8", "", "thirteen", null]) {
      const error = rejected({ "Sec-WebSocket-Version": version }, 426, BAD_VERSION);
      assert.deepEqual(error.headers, { "Sec-WebSocket-Version": "13" }, `${version}`);
    }
  });

  test("checkHandshake() answers a key that is not base64 of 16 bytes with 400", () => {
    const keys = [
      null, // missing
      "",
      "dGhlIHNhbXBsZSBub25jZQ=", // too short
      "dGhlIHNhbXBsZSBub25j", // 15 bytes
      "dGhlIHNhbXBsZSBub25jZQ==AA", // too long
      "dGhlIHNhbXBsZSBub25jZSE=", // 17 bytes
      "dGhlIHNhbXBsZSBub25jZQo=", // wrong padding
      "dGhlIHNhbXBsZSBub25jZ-==", // '-' is not base64
      "dGhlIHNhbXBsZSBub25j*Q==",
      "dGhlIHNhbX Bsb25jZQ==",
    ];
    for (const key of keys) rejected({ "Sec-WebSocket-Key": key }, 400, BAD_KEY);
  });

  test("checkHandshake() accepts any base64 of 16 bytes as a key", () => {
    const key = "AAAAAAAAAAAAAAAAAAAAAA==";
    assert.equal(checkHandshake(request({ "Sec-WebSocket-Key": key })).key, key);
    const symbols = "+/+/+/+/+/+/+/+/+/+/+w==";
    assert.equal(checkHandshake(request({ "Sec-WebSocket-Key": symbols })).key, symbols);
  });

  test("checkHandshake() answers an origin not in the allowed list with 403", () => {
    const options = { allowedOrigins: ["https://example.com", "http://localhost:8000"] };
    rejected({ Origin: "https://evil.example" }, 403, "Origin not allowed", options);
    rejected({ Origin: "https://example.com:8443" }, 403, "Origin not allowed", options);
    rejected({ Origin: "null" }, 403, "Origin not allowed", options);
    assert.equal(checkHandshake(request({ Origin: "https://example.com" }), options).key, KEY);
    assert.equal(checkHandshake(request({ Origin: "HTTPS://Example.COM" }), options).key, KEY);
    assert.equal(checkHandshake(request({ Origin: "http://localhost:8000" }), options).key, KEY);
  });

  test("checkHandshake() answers an origin its predicate refuses with 403", () => {
    const seen: string[] = [];
    const options = {
      allowedOrigins: (origin: string) => {
        seen.push(origin);
        return origin.endsWith(".example.com");
      },
    };
    rejected({ Origin: "https://evil.test" }, 403, "Origin not allowed", options);
    assert.equal(checkHandshake(request({ Origin: "https://app.example.com" }), options).key, KEY);
    assert.deepEqual(seen, ["https://evil.test", "https://app.example.com"]);
  });

  test("checkHandshake() allows a request with no Origin header whatever the options", () => {
    assert.equal(checkHandshake(request(), { allowedOrigins: [] }).key, KEY);
    assert.equal(checkHandshake(request(), { allowedOrigins: () => false }).key, KEY);
  });

  test("checkHandshake() allows every origin when no allowedOrigins is given", () => {
    assert.equal(checkHandshake(request({ Origin: "https://anywhere.test" })).key, KEY);
  });
});

/** A request head as an adapter that parses HTTP itself passes it, with its HTTP version. */
function head(
  httpVersion: string,
  changes: Record<string, string | null> = {},
): HandshakeRequest {
  return { method: "GET", httpVersion, headers: request(changes).headers };
}

const OLD_HTTP = "A WebSocket handshake needs HTTP/1.1 or later";
const NO_HOST = "A WebSocket handshake needs a Host header";
const HAS_BODY = "A WebSocket handshake must not have a body";
const BAD_PROTOCOLS = "Sec-WebSocket-Protocol must be a comma-separated list of tokens";

/** Asserts that `checkHandshake()` refuses a request head with 400 and `message`. */
function refusedHead(input: HandshakeRequest, message: string): void {
  assert.throws(
    () => checkHandshake(input),
    (error) => error instanceof HandshakeError && error.status === 400 && error.message === message,
  );
}

describe("RFC 6455 §4.2.1 the client request: HTTP version, Host, body", () => {
  test("checkHandshake() answers an HTTP version before 1.1 with 400 (RFC 6455 §4.2.1)", () => {
    refusedHead(head("1.0"), OLD_HTTP);
    refusedHead(head("0.9"), OLD_HTTP);
    assert.equal(checkHandshake(head("1.1")).key, KEY);
    assert.equal(checkHandshake(head("2.0")).key, KEY);
    // A `Request` has no version: nothing to check.
    assert.equal(checkHandshake(request()).key, KEY);
  });

  test("checkHandshake() answers a request without a Host, or an empty one, with 400", () => {
    rejected({ Host: null }, 400, NO_HOST);
    rejected({ Host: "" }, 400, NO_HOST);
    rejected({ Host: " \t" }, 400, NO_HOST);
  });

  test("checkHandshake() answers a request with a body with 400 (a GET upgrade has none)", () => {
    refusedHead(head("1.1", { "Content-Length": "6" }), HAS_BODY);
    refusedHead(head("1.1", { "Content-Length": "abc" }), HAS_BODY);
    refusedHead(head("1.1", { "Transfer-Encoding": "chunked" }), HAS_BODY);
    refusedHead(head("1.1", { "Transfer-Encoding": "identity" }), HAS_BODY);
    assert.equal(checkHandshake(head("1.1", { "Content-Length": "0" })).key, KEY);
    assert.equal(checkHandshake(head("1.1", { "Content-Length": "00" })).key, KEY);
  });
});

describe("RFC 6455 §1.9, §4.2.2 subprotocols", () => {
  test("checkHandshake() picks the same subprotocol from every legal spelling of the list", () => {
    const spellings = [
      "chat.v1,chat.v2",
      "chat.v1, chat.v2",
      "chat.v1 , chat.v2",
      "chat.v1\t,\tchat.v2",
      " chat.v1,,chat.v2 ,",
      ",chat.v1, ,chat.v2",
    ];
    for (const offer of spellings) {
      const offered = { "Sec-WebSocket-Protocol": offer };
      assert.equal(
        checkHandshake(request(offered), { protocols: ["chat.v2"] }).protocol,
        "chat.v2",
      );
      assert.equal(
        checkHandshake(request(offered), { protocols: ["chat.v1", "chat.v2"] }).protocol,
        "chat.v1",
        offer,
      );
    }
    // Repeated headers reach checkHandshake() joined with ", ", as `Headers.get` joins them.
    const repeated = new Headers(VALID_HEADERS);
    repeated.append("Sec-WebSocket-Protocol", "chat.v0");
    repeated.append("Sec-WebSocket-Protocol", "chat.v2");
    assert.equal(
      checkHandshake({ method: "GET", headers: repeated }, { protocols: ["chat.v2"] }).protocol,
      "chat.v2",
    );
  });

  test("checkHandshake() answers a subprotocol offer that is not a list of tokens with 400", () => {
    for (const offer of ["chat v1", "chat;v1", "a, b/c", '"chat"', "chat\u00e9", "a,b c,d"]) {
      rejected({ "Sec-WebSocket-Protocol": offer }, 400, BAD_PROTOCOLS, { protocols: ["a"] });
      // Whether the route speaks subprotocols or not.
      rejected({ "Sec-WebSocket-Protocol": offer }, 400, BAD_PROTOCOLS);
    }
    // An offer with no element at all is no offer.
    assert.equal(checkHandshake(request({ "Sec-WebSocket-Protocol": " , " })).protocol, "");
  });

  test("checkHandshake() picks the server's most preferred subprotocol the client offers", () => {
    const offered = { "Sec-WebSocket-Protocol": "chat, superchat" };
    assert.equal(
      checkHandshake(request(offered), { protocols: ["superchat", "chat"] }).protocol,
      "superchat",
    );
    assert.equal(
      checkHandshake(request(offered), { protocols: ["chat", "superchat"] }).protocol,
      "chat",
    );
    assert.equal(
      checkHandshake(request(offered), { protocols: ["mqtt", "chat"] }).protocol,
      "chat",
    );
  });

  test("checkHandshake() never picks a subprotocol the client did not offer", () => {
    assert.equal(checkHandshake(request(), { protocols: ["chat"] }).protocol, "");
    const offered = { "Sec-WebSocket-Protocol": "chat" };
    assert.equal(checkHandshake(request(offered), { protocols: ["mqtt"] }).protocol, "");
    assert.equal(checkHandshake(request(offered)).protocol, "");
    assert.equal(checkHandshake(request(offered), { protocols: ["Chat"] }).protocol, "");
  });
});

describe("RFC 6455 §9.1 the extension offer", () => {
  test("checkHandshake() passes on the client's extension offer", () => {
    const offer = "permessage-deflate; client_max_window_bits";
    assert.equal(checkHandshake(request({ "Sec-WebSocket-Extensions": offer })).extensions, offer);
  });
});

describe("RFC 6455 §4.2.2 the server answer", () => {
  test("checkHandshake() errors turn into plain-text responses that say what was wrong", async () => {
    const cases: [Record<string, string | null>, string, number, string, Record<string, string>][] =
      [
        [{}, "POST", 405, "A WebSocket handshake must use GET", { allow: "GET" }],
        [{ Upgrade: null }, "GET", 400, BAD_UPGRADE, {}],
        [{ Connection: null }, "GET", 400, BAD_CONNECTION, {}],
        [{ "Sec-WebSocket-Version": "8" }, "GET", 426, BAD_VERSION, {
          "sec-websocket-version": "13",
        }],
        [{ "Sec-WebSocket-Key": "short" }, "GET", 400, BAD_KEY, {}],
      ];
    for (const [changes, method, status, message, headers] of cases) {
      let response: Response | undefined;
      try {
        checkHandshake(request(changes, method));
      } catch (error) {
        assert.ok(error instanceof HandshakeError);
        response = error.toResponse();
      }
      assert.ok(response, `${JSON.stringify(changes)} was accepted`);
      assert.equal(response.status, status);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      for (const [name, value] of Object.entries(headers)) {
        assert.equal(response.headers.get(name), value);
      }
      assert.equal(await response.text(), message + "\n");
    }
  });

  test("chooseProtocol() follows the server's order and returns '' when none is shared", () => {
    assert.equal(chooseProtocol("a, b, c", ["c", "b"]), "c");
    assert.equal(chooseProtocol("a,b", ["b", "a"]), "b");
    assert.equal(chooseProtocol("a", ["b"]), "");
    assert.equal(chooseProtocol(null, ["a"]), "");
    assert.equal(chooseProtocol("a", []), "");
  });

  test("headerList() splits on commas, trims spaces and tabs and drops empty items", () => {
    assert.deepEqual(headerList(null), []);
    assert.deepEqual(headerList(""), []);
    assert.deepEqual(headerList(" a ,b,, c "), ["a", "b", "c"]);
    assert.deepEqual(headerList("\ta\t,\t\tb"), ["a", "b"]);
  });

  test("acceptHeaders() answers with the accept key and the chosen subprotocol", async () => {
    const accept = await computeAccept(KEY);
    assert.deepEqual(acceptHeaders({ key: KEY, protocol: "", extensions: "" }, accept), {
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    });
    assert.deepEqual(
      acceptHeaders({ key: KEY, protocol: "chat", extensions: "x" }, accept, "permessage-deflate"),
      {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "Sec-WebSocket-Protocol": "chat",
        "Sec-WebSocket-Extensions": "permessage-deflate",
      },
    );
  });
});

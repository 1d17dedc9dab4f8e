/**
 * The opening handshake as each adapter answers it on the wire, from a raw TCP client:
 * the strict refusals of RFC 6455 §4.2.1 and subprotocol lists in every legal spelling,
 * on every adapter this runtime offers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocketSite } from "../../src/site/site.ts";
import { rawRequest, type RawResponse } from "../helpers/client.ts";
import { Echo, type Pair, pairs, withSite } from "../helpers/server.ts";

const KEY_LINES = "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/** An upgrade request to `path`: `lines` (each ending in CRLF) after the handshake's own. */
const upgrade = (path: string, lines = "", version = "1.1") =>
  `GET ${path} HTTP/${version}\r\n${KEY_LINES}${lines}\r\n`;

/** A site with an echo at `/ws` and at `/chat`, which speaks chat.v2 then chat.v1. */
function chatSite(): WebSocketSite {
  const site = new WebSocketSite();
  site.addHandler("/ws", Echo);
  site.addHandler("/chat", Echo, { protocols: ["chat.v2", "chat.v1"] });
  return site;
}

/** What a pair answered: the status and, where wsport wrote it, the body. */
const answer = (response: RawResponse) => ({ status: response.status, body: response.body });

/** wsport's own refusal, as `HandshakeError.toResponse()` writes it. */
const refusal = (message: string) => ({ status: 400, body: message + "\n" });

/** A 400 the runtime's own server sent, before wsport saw the request: no body. */
const runtimeRefusal = { status: 400, body: "" };

/** A 101, whose head is all that is read. */
const upgraded = { status: 101, body: "" };

/**
 * The strict-handshake cases: each request, and what each pair answers. Where a native
 * server answers itself, or cannot tell wsport what it needs, the answer is its own (see
 * DIFFERENCES.md).
 */
const strictCases: {
  name: string;
  request: string;
  expected: (pair: Pair) => { status: number; body: string };
}[] = [
  {
    name: "HTTP/1.0",
    request: upgrade("/ws", "Host: 127.0.0.1\r\n", "1.0"),
    // Neither Deno.serve nor Bun.serve tells the request's HTTP version.
    expected: (pair) =>
      pair.native ? upgraded : refusal("A WebSocket handshake needs HTTP/1.1 or later"),
  },
  {
    name: "no Host",
    request: upgrade("/ws"),
    // Bun.serve refuses an HTTP/1.1 request without Host itself.
    expected: (pair) =>
      pair.adapter === "bun"
        ? runtimeRefusal
        : refusal("A WebSocket handshake needs a Host header"),
  },
  {
    name: "an empty Host",
    request: upgrade("/ws", "Host:\r\n"),
    // Bun.serve makes the request's URL relative: it cannot be routed at all.
    expected: (pair) =>
      refusal(
        pair.adapter === "bun"
          ? "A request needs a Host header"
          : "A WebSocket handshake needs a Host header",
      ),
  },
  {
    name: "HTTP/1.0 without Host",
    request: upgrade("/ws", "", "1.0"),
    expected: (pair) =>
      pair.adapter === "bun" ? refusal("A request needs a Host header") : refusal(
        pair.native
          ? "A WebSocket handshake needs a Host header"
          : "A WebSocket handshake needs HTTP/1.1 or later",
      ),
  },
  {
    name: "a Content-Length body",
    // Sent as UTF-8: ASCII bytes only, so the lengths hold. A lenient server reads them as
    // frames after its 101.
    request: upgrade("/ws", "Host: 127.0.0.1\r\nContent-Length: 6\r\n") + "abcdef",
    // Deno.serve refuses any upgrade with a Content-Length or Transfer-Encoding itself.
    expected: (pair) =>
      pair.adapter === "deno"
        ? runtimeRefusal
        : refusal("A WebSocket handshake must not have a body"),
  },
  {
    name: "a chunked body",
    request: upgrade("/ws", "Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n") +
      "6\r\nabcdef\r\n0\r\n\r\n",
    expected: (pair) =>
      pair.adapter === "deno"
        ? runtimeRefusal
        : refusal("A WebSocket handshake must not have a body"),
  },
  {
    name: "the request target *",
    request: "GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    // Bun's node:http refuses it as malformed, through the adapter's clientError answer.
    expected: (pair) =>
      pair.native
        ? runtimeRefusal
        : refusal(pair.runtime === "bun" ? "Malformed HTTP request" : "Malformed request target"),
  },
];

const chosen = (protocol: string) => `Sec-WebSocket-Protocol: ${protocol}`;

/** Spellings of one offer, chat.v1 then chat.v2, as request header lines. */
const spellings = [
  "Sec-WebSocket-Protocol: chat.v1,chat.v2\r\n",
  "Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n",
  "Sec-WebSocket-Protocol: chat.v1 , chat.v2\r\n",
  "Sec-WebSocket-Protocol: chat.v1\t,\tchat.v2\r\n",
  "Sec-WebSocket-Protocol: ,chat.v1,,chat.v2 ,\r\n",
  "Sec-WebSocket-Protocol: chat.v1\r\nSec-WebSocket-Protocol: chat.v2\r\n",
  "Sec-WebSocket-Protocol: chat.v1,\r\nsec-websocket-protocol: ,chat.v2\r\n",
];

for (const pair of pairs) {
  test(`strict handshake on ${pair.name}: 400 for HTTP/1.0, no Host, a body, target *`, async () => {
    await withSite(chatSite(), pair, async (server) => {
      for (const { name, request, expected } of strictCases) {
        const response = await rawRequest(server.port, request);
        assert.deepEqual(answer(response), expected(pair), name);
      }
      // The same request, strictly formed, is upgraded.
      const valid = await rawRequest(server.port, upgrade("/ws", "Host: 127.0.0.1\r\n"));
      assert.equal(valid.status, 101);
    });
  });

  test(`subprotocols on ${pair.name}: every legal spelling of a list negotiates the same`, async () => {
    await withSite(chatSite(), pair, async (server) => {
      for (const lines of spellings) {
        const response = await rawRequest(server.port, upgrade("/chat", "Host: x\r\n" + lines));
        assert.equal(response.status, 101, JSON.stringify(lines));
        const protocol = response.headers.get("sec-websocket-protocol");
        assert.equal(protocol && chosen(protocol), chosen("chat.v2"), JSON.stringify(lines));
        // A route without subprotocols answers none, whatever the spelling.
        const plain = await rawRequest(server.port, upgrade("/ws", "Host: x\r\n" + lines));
        assert.equal(plain.status, 101, JSON.stringify(lines));
        assert.equal(plain.headers.get("sec-websocket-protocol"), null, JSON.stringify(lines));
      }
    });
  });

  test(`subprotocols on ${pair.name}: 400 for an offer that is not a list of tokens`, async () => {
    await withSite(chatSite(), pair, async (server) => {
      for (const offer of ["chat.v2 chat.v1", "chat.v2;q=1", "chat/v2", '"chat.v2"']) {
        const lines = `Host: x\r\nSec-WebSocket-Protocol: ${offer}\r\n`;
        for (const path of ["/chat", "/ws"]) {
          const response = await rawRequest(server.port, upgrade(path, lines));
          assert.deepEqual(
            answer(response),
            refusal("Sec-WebSocket-Protocol must be a comma-separated list of tokens"),
            `${path}: ${offer}`,
          );
        }
      }
    });
  });
}

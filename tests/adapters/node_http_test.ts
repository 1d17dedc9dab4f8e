/**
 * `NodeRequestHead` reads a request head as `Request`, `Headers` and `URL` would, without
 * making them.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { NodeRequestHead } from "../../src/adapters/node_http.ts";
import type { LazyRequest } from "../../src/site/session.ts";

/** Just the head fields `NodeRequestHead` reads. */
const message = (url: string, rawHeaders: string[] = [], method = "GET") =>
  ({ method, url, rawHeaders }) as unknown as IncomingMessage;

test("NodeRequestHead.pathname is the URL parser's path for every target form", () => {
  const targets = [
    "/",
    "/echo",
    "/echo?x=1#y",
    "/a/b.c/d-e_f~g!h$i&j'k(l)m*n+o,p;q=r:s@t",
    "/a/./b",
    "/a/../b",
    "/a/..",
    "/.",
    "/%2e%2e/secret",
    "/caf%C3%A9",
    "/café",
    "/a b",
    "/a\\b",
    "//evil.example/path",
    "/a//b",
    "/{x}|^`[y]",
    "/..%2f",
    "http://other.example/abs?q",
    "*",
  ];
  for (const target of targets) {
    // An origin-form target (RFC 9112 §3.2.1) is all path, even when it starts with "//".
    const expected = target.startsWith("/")
      ? new URL(`http://localhost${target}`).pathname
      : new URL(target, "http://localhost").pathname;
    assert.equal(new NodeRequestHead(message(target)).pathname, expected, target);
  }
});

test("NodeRequestHead.headers.get joins repeats and ignores case, as Headers.get does", () => {
  const raw = [
    "Host",
    "localhost",
    "Connection",
    "keep-alive",
    "CONNECTION",
    "Upgrade",
    "Sec-WebSocket-Protocol",
    "chat",
    "sec-websocket-protocol",
    "superchat",
    "Upgrade",
    "websocket",
  ];
  const head = new NodeRequestHead(message("/", raw));
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  for (const name of ["host", "Connection", "sec-websocket-protocol", "upgrade", "origin"]) {
    assert.equal(head.headers.get(name), headers.get(name), name);
  }
});

test("NodeRequestHead.toRequest() makes one Request; forConnection() reuses it", async () => {
  assert.equal(
    new NodeRequestHead(message("//evil.example/x", ["Host", "a"])).toRequest().url,
    "http://a//evil.example/x",
  );
  const head = new NodeRequestHead(message("/chat?room=a", ["Host", "example.com:8080"]));
  const fresh = head.forConnection();
  assert.ok(!(fresh instanceof Request));
  const rebuilt = (fresh as LazyRequest).toRequest();
  assert.equal(rebuilt.url, "http://example.com:8080/chat?room=a");
  assert.equal(rebuilt.headers.get("host"), "example.com:8080");

  const request = head.toRequest();
  assert.equal(head.toRequest(), request);
  assert.equal(head.forConnection(), request);
  assert.equal(request.method, "GET");
  assert.equal(request.url, "http://example.com:8080/chat?room=a");
  assert.equal(await request.text(), "");
});

test("NodeRequestHead.forConnection() keeps TLS, method, target and repeated headers", () => {
  const secure = {
    ...message("/chat?a=1", ["Host", "example.com", "X-Tag", "one", "x-tag", "two"], "GET"),
    socket: { encrypted: true },
  } as unknown as IncomingMessage;
  const rebuilt = (new NodeRequestHead(secure).forConnection() as LazyRequest).toRequest();
  assert.equal(rebuilt.url, "https://example.com/chat?a=1");
  assert.equal(rebuilt.method, "GET");
  assert.equal(rebuilt.headers.get("x-tag"), "one, two");
  const bare = (new NodeRequestHead(message("/", [])).forConnection() as LazyRequest).toRequest();
  assert.equal(bare.url, "http://localhost/");
  assert.equal([...bare.headers].length, 0);
});

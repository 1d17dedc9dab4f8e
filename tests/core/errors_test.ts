import { test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError, WebSocketError } from "../../src/core/errors.ts";

test("WebSocketError carries its close code and reason", () => {
  const error = new WebSocketError(1009, "Message too big");
  assert.ok(error instanceof Error);
  assert.equal(error.name, "WebSocketError");
  assert.equal(error.closeCode, 1009);
  assert.equal(error.reason, "Message too big");
  assert.equal(error.message, "Message too big (close code 1009)");
});

test("HandshakeError carries its status, message and headers", () => {
  const error = new HandshakeError(426, "Unsupported WebSocket version", {
    "Sec-WebSocket-Version": "13",
  });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "HandshakeError");
  assert.equal(error.status, 426);
  assert.equal(error.message, "Unsupported WebSocket version");
  assert.deepEqual(error.headers, { "Sec-WebSocket-Version": "13" });
  assert.deepEqual(new HandshakeError(400, "Bad").headers, {});
});

test("HandshakeError.toResponse() answers with the status, its headers and a text body", async () => {
  const response = new HandshakeError(405, "A WebSocket handshake must use GET", {
    Allow: "GET",
  }).toResponse();
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(response.headers.get("allow"), "GET");
  assert.equal(await response.text(), "A WebSocket handshake must use GET\n");
});

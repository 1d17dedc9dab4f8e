/**
 * What the Node adapter computes itself: `Sec-WebSocket-Accept` with `node:crypto`,
 * which must agree with the core's web-standard `computeAccept()`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeAccept } from "../../src/adapters/node_sockets.ts";
import { computeAccept } from "../../src/core/handshake.ts";

test("nodeAccept() gives RFC 6455 §1.3's value and agrees with computeAccept()", async () => {
  assert.equal(nodeAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  for (let i = 0; i < 200; i++) {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    assert.equal(nodeAccept(key), await computeAccept(key), key);
  }
});

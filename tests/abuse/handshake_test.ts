/**
 * Hostile handshakes: a GET upgrade smuggling WebSocket frames in a body (Content-Length
 * or chunked), an HTTP/1.0 upgrade, an upgrade without Host. RFC 6455 §4.2.1 asks for an
 * HTTP/1.1 GET with a Host; a body has no place in it. Every adapter must answer 400 and
 * open no WebSocket, and the attack server (see `README.md`) must stay bounded and serve
 * a normal client after.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Opcode } from "../../src/core/constants.ts";
import { rawRequest } from "../helpers/client.ts";
import { pairs } from "../helpers/server.ts";
import { MiB } from "./attack_limits.ts";
import { bound, maskedFrame, underAttack } from "./harness.ts";

const KEY_HEADERS = "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
const SMUGGLED = maskedFrame(Opcode.Text, "smuggled");
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** Each hostile handshake, by name. */
const HANDSHAKES: Record<string, string> = {
  "a body (Content-Length)": `GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${KEY_HEADERS}` +
    `Content-Length: ${SMUGGLED.length}\r\n\r\n${latin1(SMUGGLED)}`,
  "a body (chunked)": `GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${KEY_HEADERS}` +
    `Transfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n` +
    `${latin1(SMUGGLED)}\r\n0\r\n\r\n`,
  "HTTP/1.0": `GET /echo HTTP/1.0\r\nHost: 127.0.0.1\r\n${KEY_HEADERS}\r\n`,
  "no Host": `GET /echo HTTP/1.1\r\n${KEY_HEADERS}\r\n`,
};

/**
 * The handshakes to refuse on `pair`: all on the Node adapter; on Deno.serve and
 * Bun.serve, whose `Request` does not tell the HTTP version, all but HTTP/1.0.
 */
const handshakesFor = (native: boolean) =>
  Object.entries(HANDSHAKES).filter(([name]) => !native || name !== "HTTP/1.0");

/** Each handshake is tried this many times. */
const TIMES = 20;

for (const pair of pairs) {
  const what = pair.native
    ? "with a body or without Host"
    : "with a body, over HTTP/1.0 or without Host";
  test(`${pair.name}: upgrades ${what} get 400`, async () => {
    const answers: string[] = [];
    await underAttack(
      pair,
      "hostile handshakes",
      bound(MiB, "1 MiB for the requests' heads"),
      async (server) => {
        for (const [name, request] of handshakesFor(pair.native)) {
          const statuses = new Set<number>();
          for (let i = 0; i < TIMES; i++) {
            statuses.add((await rawRequest(server.port, request)).status);
          }
          answers.push(`${name}: HTTP ${[...statuses].join(", ")}`);
        }
        return { release: () => {}, note: answers.join("; ") };
      },
    );
    assert.deepEqual(
      answers,
      handshakesFor(pair.native).map(([name]) => `${name}: HTTP 400`),
    );
  });
}

// permessage-deflate against the JavaScript clients that compress: the `ws` package
// (on Node and Deno) and Bun's own WebSocket (on Bun, where `import "ws"` is Bun's
// shim). Each echoes text and binary through a tap that checks the wire.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { within } from "../helpers/client.ts";
import { runtime, withSite } from "../helpers/server.ts";
import {
  assertCompressedOnTheWire,
  assertEchoed,
  compressingPairs,
  configurations,
  echoSite,
  MESSAGES,
  PATH,
} from "./scenario.ts";
import { Tap } from "./tap.ts";

/** What `ws` takes as `perMessageDeflate` on the client side. */
interface WsDeflate {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number | boolean;
  threshold?: number;
}

interface MinimalSocket {
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: (() => void) | null;
  send(data: string | Uint8Array): void;
  close(): void;
}

type SocketClass = new (url: string, options?: unknown) => MinimalSocket;

const Socket: SocketClass = runtime === "bun"
  ? (globalThis as unknown as { WebSocket: SocketClass }).WebSocket
  : (await import("ws")).WebSocket as unknown as SocketClass;

/** Sends every message, then collects as many echoes, and closes. */
async function echo(url: string, offer?: WsDeflate): Promise<(string | Uint8Array)[]> {
  // ws offers "permessage-deflate; client_max_window_bits" by default, as browsers do;
  // Bun's client offers permessage-deflate whatever it is given.
  const socket = runtime === "bun"
    ? new Socket(url)
    : new Socket(url, { perMessageDeflate: offer ?? true });
  socket.binaryType = "arraybuffer";
  const received: (string | Uint8Array)[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.onmessage = (event) => {
      const data = event.data;
      received.push(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
      if (received.length === MESSAGES.length) resolve();
    };
    socket.onclose = (event) => reject(new Error(`Closed with ${event.code}`));
    socket.onerror = () => reject(new Error(`Could not use ${url}`));
  });
  await within(new Promise<void>((resolve) => socket.onopen = resolve), `opening ${url}`);
  for (const message of MESSAGES) socket.send(message);
  try {
    await within(done, "the echoes");
  } finally {
    const closed = new Promise<void>((resolve) => socket.onclose = () => resolve());
    socket.close();
    await within(closed, "the client to close");
  }
  return received;
}

for (const pair of compressingPairs) {
  describe(`${pair.name}: ${runtime === "bun" ? "Bun's WebSocket" : "ws"} with compression`, () => {
    for (const configuration of configurations) {
      test(`echoes text and binary, compressed both ways (${configuration.name})`, async () => {
        await withSite(echoSite(configuration.setting), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            assertEchoed(await echo(`ws://127.0.0.1:${tap.port}${PATH}`));
            assertCompressedOnTheWire(tap);
            assert.match(tap.extensions, /^permessage-deflate\b/);
          } finally {
            await tap.stop();
          }
        });
      });
    }

    if (runtime !== "bun") {
      test("echoes with the client's window bits and no-takeover requests granted", async () => {
        const offer: WsDeflate = {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 9,
        };
        await withSite(echoSite(true), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            assertEchoed(await echo(`ws://127.0.0.1:${tap.port}${PATH}`, offer));
            assertCompressedOnTheWire(tap);
            if (pair.adapter === "node") {
              assert.equal(
                tap.extensions,
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
                  "server_max_window_bits=10; client_max_window_bits=9",
              );
            }
          } finally {
            await tap.stop();
          }
        });
      });

      test("echoes when the client asks the server for an 8-bit window", async () => {
        await withSite(echoSite(true), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const received = await echo(`ws://127.0.0.1:${tap.port}${PATH}`, {
              serverMaxWindowBits: 8,
            });
            assertEchoed(received);
            assert.match(tap.extensions, /server_max_window_bits=8/);
          } finally {
            await tap.stop();
          }
        });
      });
    }
  });
}

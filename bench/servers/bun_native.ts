/**
 * The native Bun peer: `Bun.serve` with its own `websocket` handlers, echo at `/echo`
 * and `server.publish` to every connection at `/broadcast`. With the argument `deflate`,
 * for scenario (g), it negotiates permessage-deflate and publishes compressed at `/chat`.
 * Prints `{"port":N}` once it listens.
 *
 *     bun bench/servers/bun_native.ts
 *     bun bench/servers/bun_native.ts deflate
 *
 * @module
 */

import process from "node:process";

/** The slice of Bun's `ServerWebSocket` this server uses. */
interface BunSocket {
  readonly data: { path: string };
  send(message: string | Uint8Array): number;
  subscribe(topic: string): void;
}

/** The slice of Bun's `Server` this server uses. */
interface BunServer {
  readonly port: number;
  upgrade(request: Request, options: { data: { path: string } }): boolean;
  publish(topic: string, message: string | Uint8Array, compress?: boolean): number;
}

/** Bun's compressor presets used here (uWebSockets' dedicated: 15-bit windows, kept). */
type BunCompressor = "dedicated";

/** The slice of the `Bun` namespace this server uses. */
interface BunNamespace {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      perMessageDeflate: false | { compress: BunCompressor; decompress: BunCompressor };
      maxPayloadLength: number;
      backpressureLimit: number;
      open(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
    };
  }): BunServer;
}

const bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
const MiB = 1024 * 1024;
const deflate = process.argv[2] === "deflate";

const server = bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (server.upgrade(request, { data: { path } })) return undefined;
    return new Response("Upgrade required\n", { status: 426 });
  },
  websocket: {
    // Context takeover both ways, as wsport's Bun.serve adapter maps its defaults (Bun's
    // `perMessageDeflate: true` is the "shared" preset: no context takeover).
    perMessageDeflate: deflate ? { compress: "dedicated", decompress: "dedicated" } : false,
    // As wide as the wsport Bun adapter opens them, so neither drops a pipelined echo.
    maxPayloadLength: 16 * MiB,
    backpressureLimit: 32 * MiB,
    open(ws) {
      if (ws.data.path === "/broadcast" || ws.data.path === "/chat") ws.subscribe(ws.data.path);
    },
    message(ws, message) {
      if (ws.data.path === "/broadcast") server.publish("/broadcast", message);
      else if (ws.data.path === "/chat") server.publish("/chat", message, true);
      else ws.send(message);
    },
  },
});
console.log(JSON.stringify({ port: server.port }));

/**
 * The native Bun peer: `Bun.serve` with its own `websocket` handlers, echo at `/echo`
 * and `server.publish` to every connection at `/broadcast`. Prints `{"port":N}` once it
 * listens.
 *
 *     bun bench/servers/bun_native.ts
 *
 * @module
 */

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
  publish(topic: string, message: string | Uint8Array): number;
}

/** The slice of the `Bun` namespace this server uses. */
interface BunNamespace {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      maxPayloadLength: number;
      backpressureLimit: number;
      open(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
    };
  }): BunServer;
}

const bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
const MiB = 1024 * 1024;

const server = bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request, server) {
    const path = new URL(request.url).pathname;
    if (server.upgrade(request, { data: { path } })) return undefined;
    return new Response("Upgrade required\n", { status: 426 });
  },
  websocket: {
    // As wide as the wsport Bun adapter opens them, so neither drops a pipelined echo.
    maxPayloadLength: 16 * MiB,
    backpressureLimit: 32 * MiB,
    open(ws) {
      if (ws.data.path === "/broadcast") ws.subscribe("all");
    },
    message(ws, message) {
      if (ws.data.path === "/broadcast") server.publish("all", message);
      else ws.send(message);
    },
  },
});
console.log(JSON.stringify({ port: server.port }));

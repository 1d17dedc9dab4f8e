/**
 * A JSON chat room with permessage-deflate: what compression costs in throughput and
 * saves on the wire, wsport against `ws`.
 *
 * Every client joins one room and sends small JSON chat messages (about 150 bytes, the
 * same keys each time: where context takeover pays); the server publishes each to the
 * whole room. The load runs here, on `ws` clients that compress; each server runs in a
 * child process of its own:
 *
 *     tsc -p tsconfig.json && node .build/bench/compressed_chat.js
 *     node .build/bench/compressed_chat.js --clients 20 --messages 200
 *
 * Servers: wsport's Node adapter on Node with and without compression (threshold 0, so
 * every message is compressed), and `ws` with `perMessageDeflate` (threshold 0). It
 * prints a Markdown table: messages delivered per second, bytes received by the clients
 * per message, and the ratio to the uncompressed wire size.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { WebSocket, WebSocketServer } from "ws";
import { type Transport, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { serve } from "../src/adapters/serve.ts";

const ROOM = "room";
const PATH = "/chat";

/** The server side, run in a child process: prints `{"port":N}` once it listens. */
async function runServer(kind: string): Promise<void> {
  let port: number;
  if (kind === "ws") {
    const server = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      perMessageDeflate: { threshold: 0 },
    });
    await new Promise((resolve) => server.once("listening", resolve));
    server.on("connection", (socket) =>
      socket.on("message", (data, isBinary) => {
        for (const client of server.clients) client.send(data, { binary: isBinary });
      }));
    port = (server.address() as { port: number }).port;
  } else {
    const site = new WebSocketSite();
    class Chat extends WebSocketHandler {
      constructor(transport: Transport) {
        super(transport);
        transport.subscribe(ROOM);
      }
      override frameReceived(frame: string | Uint8Array): void {
        site.publish(ROOM, frame);
      }
    }
    site.addHandler(PATH, Chat, {
      perMessageDeflate: kind === "wsport-deflate" ? { threshold: 0 } : false,
    });
    port = (await serve(site, { port: 0, hostname: "127.0.0.1", adapter: "node" })).port;
  }
  console.log(JSON.stringify({ port }));
}

/** A chat message: the same keys every time, varying text. */
function chatMessage(user: number, index: number): string {
  return JSON.stringify({
    type: "message",
    room: ROOM,
    user: `user-${user}`,
    sentAt: 1_700_000_000_000 + index,
    text: `Message ${index} from user ${user}: see you at the standup at ${index % 24}:00.`,
  });
}

interface Result {
  server: string;
  delivered: number;
  seconds: number;
  wireBytes: number;
  plainBytes: number;
}

/** Starts a server child, runs the room against it, stops it. */
async function measure(server: string, clients: number, messages: number): Promise<Result> {
  const self = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, [self, "--serve", server], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").once("data", (line: string) => {
        resolve(JSON.parse(line).port);
      });
      child.once("exit", () => reject(new Error(`${server} exited`)));
    });
    const sockets = await Promise.all(
      Array.from({ length: clients }, () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}${PATH}`, {
            perMessageDeflate: { threshold: 0 },
          });
          socket.once("open", () => resolve(socket));
          socket.once("error", reject);
        })),
    );
    const expected = clients * clients * messages;
    let delivered = 0;
    let plainBytes = 0;
    const done = new Promise<void>((resolve) => {
      for (const socket of sockets) {
        socket.on("message", (data: Uint8Array) => {
          plainBytes += data.length;
          if (++delivered === expected) resolve();
        });
      }
    });
    const readBefore = sockets.reduce((sum, socket) => sum + readBytes(socket), 0);
    const start = performance.now();
    for (let index = 0; index < messages; index++) {
      sockets.forEach((socket, user) => socket.send(chatMessage(user, index)));
    }
    await done;
    const seconds = (performance.now() - start) / 1000;
    const wireBytes = sockets.reduce((sum, socket) => sum + readBytes(socket), 0) - readBefore;
    for (const socket of sockets) socket.terminate();
    return { server, delivered, seconds, wireBytes, plainBytes };
  } finally {
    child.kill();
  }
}

/** Bytes a `ws` client read off its socket. */
function readBytes(socket: WebSocket): number {
  return (socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

if (process.argv[2] === "--serve") {
  await runServer(process.argv[3]);
} else {
  const clients = option("clients", 20);
  const messages = option("messages", 100);
  const rows = [
    "| server | delivered msg/s | wire bytes/msg | vs uncompressed |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const server of ["wsport-plain", "wsport-deflate", "ws"]) {
    const result = await measure(server, clients, messages);
    const perMessage = result.wireBytes / result.delivered;
    const plain = result.plainBytes / result.delivered;
    rows.push(
      `| ${server} | ${Math.round(result.delivered / result.seconds)} | ` +
        `${perMessage.toFixed(1)} | ${(perMessage / (plain + 2)).toFixed(2)} |`,
    );
  }
  console.log(
    `JSON chat: ${clients} clients, ${messages} messages each, all published to the room\n`,
  );
  console.log(rows.join("\n"));
}

/**
 * The `ws` peer on Node: echo at `/echo`, broadcast (a loop over `wss.clients`) at
 * `/broadcast` and `/chat`. Set `WS_NO_BUFFER_UTIL=1` to run ws without its bufferutil
 * addon. With the argument `deflate`, it negotiates permessage-deflate with threshold 0
 * (every message compressed; ws's other defaults), for scenario (g). Prints `{"port":N}`
 * once it listens.
 *
 *     node bench/servers/ws.mjs deflate
 *
 * @module
 */

import process from "node:process";
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({
  port: 0,
  host: "127.0.0.1",
  perMessageDeflate: process.argv[2] === "deflate" ? { threshold: 0 } : false,
});

wss.on("connection", (socket, request) => {
  if (request.url === "/broadcast" || request.url === "/chat") {
    socket.on("message", (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary });
    });
  } else {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  }
});
wss.on("listening", () => console.log(JSON.stringify({ port: wss.address().port })));

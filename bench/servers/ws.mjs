/**
 * The `ws` peer on Node: echo at `/echo`, broadcast (a loop over `wss.clients`) at
 * `/broadcast`. Set `WS_NO_BUFFER_UTIL=1` to run ws without its bufferutil addon.
 * Prints `{"port":N}` once it listens.
 * @module
 */

import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });

wss.on("connection", (socket, request) => {
  if (request.url === "/broadcast") {
    socket.on("message", (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary });
    });
  } else {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  }
});
wss.on("listening", () => console.log(JSON.stringify({ port: wss.address().port })));

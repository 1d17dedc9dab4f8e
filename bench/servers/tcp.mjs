/**
 * A plain `node:net` echo server: the ceiling with no WebSocket work at all. Prints
 * `{"port":N}` once it listens.
 * @module
 */

import { createServer } from "node:net";

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (chunk) => socket.write(chunk));
  socket.on("error", () => socket.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));

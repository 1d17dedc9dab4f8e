/**
 * A permessage-deflate client on the `ws` package, for the compression tests. Node runs
 * it whatever runtime runs the tests (on Bun, `import "ws"` would be Bun's own client).
 *
 * Usage: node ws_client.mjs URL OFFER_JSON < MESSAGES_JSON
 *
 * Sends each message of the JSON list on stdin ({"text": ...} or {"binary": base64}),
 * reads as many echoes, closes, and prints {"echoes": [...], "extensions": "..."}, the
 * latter being the 101's Sec-WebSocket-Extensions as `ws` read it. OFFER_JSON is `ws`'s
 * `perMessageDeflate` option: `true` offers "permessage-deflate; client_max_window_bits".
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { WebSocket } from "ws";

const [url, offer] = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const messages = JSON.parse(input).map((message) =>
  "text" in message ? message.text : Buffer.from(message.binary, "base64")
);

const socket = new WebSocket(url, { perMessageDeflate: JSON.parse(offer) });
let extensions = "";
const echoes = [];
socket.on("upgrade", (response) => {
  extensions = response.headers["sec-websocket-extensions"] ?? "";
});
socket.on("error", (error) => fail(`ws failed: ${error.message}`));
socket.on("open", () => {
  for (const message of messages) socket.send(message);
});
socket.on("message", (data, isBinary) => {
  echoes.push(
    isBinary ? { binary: Buffer.from(data).toString("base64") } : { text: String(data) },
  );
  if (echoes.length === messages.length) socket.close(1000);
});
socket.on("close", (code) => {
  if (echoes.length < messages.length) {
    fail(`closed with ${code} after ${echoes.length} of ${messages.length} echoes`);
  }
  process.stdout.write(JSON.stringify({ echoes, extensions }));
});
setTimeout(() => fail(`no echoes and close after 15 s: ${echoes.length} echoes`), 15_000)
  .unref();

/**
 * A `ws` client run by Node as a child process, whatever runtime runs the tests (on Bun,
 * `import "ws"` would be Bun's own client): for `wss://` with a CA file and for Unix
 * sockets (`ws+unix:///run/app.sock:/path`), which the runtimes' global WebSocket cannot
 * reach.
 *
 * Usage: node echo_client.mjs URL OPTIONS_JSON
 *
 * OPTIONS_JSON: {"ca": file, "messages": [text...]}. Sends each
 * message, reads as many echoes, closes with 1000, and prints
 * {"echoes": [...], "code": close code}.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { WebSocket } from "ws";

const [url, json] = process.argv.slice(2);
const options = JSON.parse(json);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const socket = new WebSocket(url, {
  ...(options.ca === undefined ? {} : { ca: readFileSync(options.ca) }),
});
const messages = options.messages ?? ["hello"];
const echoes = [];
socket.on("error", (error) => fail(`ws failed: ${error.message}`));
socket.on("open", () => {
  for (const message of messages) socket.send(message);
});
socket.on("message", (data) => {
  echoes.push(String(data));
  if (echoes.length === messages.length) socket.close(1000);
});
socket.on("close", (code) => {
  process.stdout.write(JSON.stringify({ echoes, code }));
});
setTimeout(() => fail(`no echoes and close after 15 s: ${echoes.length} echoes`), 15_000)
  .unref();

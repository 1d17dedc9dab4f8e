/**
 * The echo site as a Cloudflare Worker: an echo handler at `/echo` (as in
 * `examples/echo.ts`) and a page at `/` to try it from a browser.
 *
 *     npm run workers:echo
 *
 * runs it under a local `workerd` on 127.0.0.1, at `PORT` (default 8787). To deploy it,
 * `wrangler deploy` with the `wrangler.toml` beside this file.
 *
 * @module
 */

import { WebSocketHandler, WebSocketSite } from "../../workers.ts";

/** Writes every message back, text as text and binary as binary. */
export class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wsport echo on Workers</title>
<h1>wsport echo</h1>
<p>Whatever you send to <code>/echo</code> comes straight back. <span id="status">connecting…</span></p>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<ul id="log"></ul>
<script>
const log = document.getElementById("log");
const status = document.getElementById("status");
const input = document.getElementById("text");
function line(text) {
  const item = document.createElement("li");
  item.textContent = text;
  log.append(item);
}
const socket = new WebSocket(new URL("/echo", location.href.replace(/^http/, "ws")));
socket.onopen = () => status.textContent = "connected";
socket.onmessage = (event) => line("← " + event.data);
socket.onclose = (event) => status.textContent = "closed (" + event.code + ")";
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  if (input.value === "" || socket.readyState !== WebSocket.OPEN) return;
  socket.send(input.value);
  line("→ " + input.value);
  input.value = "";
};
</script>
</html>
`;

/** The page at `/`, 404 for anything else. */
function http(request: Request): Response {
  return new URL(request.url).pathname === "/"
    ? new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } })
    : new Response("Not Found\n", { status: 404 });
}

const site = new WebSocketSite(http);
site.addHandler("/echo", Echo);

export default { fetch: site.fetch };

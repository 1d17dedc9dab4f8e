/**
 * The classic WebSocketSite: an echo handler at `/echo`, a page at `/` to try it from a
 * browser, and a listing of the current directory at `/files/`, on one port.
 *
 *     npm run example:echo
 *     deno run --allow-net --allow-read --allow-env examples/echo.ts
 *     bun run examples/echo.ts
 *
 * `PORT` sets the port (default 8080); Deno reads it only with `--allow-env`.
 *
 * @module
 */

import { files, serve, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { announce, listenOptions } from "./listen.ts";

/** Writes every message back, text as text and binary as binary. */
export class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsport echo</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --line: #8884; --muted: #8a8f98; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; }
  header { padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 1.1rem; }
  header p { margin: 0; color: var(--muted); font-size: 0.9rem; }
  main { display: grid; grid-template-columns: minmax(18rem, 1fr) minmax(18rem, 1fr); gap: 1.25rem;
    padding: 1.25rem; height: calc(100vh - 4.5rem); }
  @media (max-width: 48rem) { main { grid-template-columns: 1fr; height: auto; } }
  section { display: flex; flex-direction: column; min-height: 20rem; border: 1px solid var(--line);
    border-radius: 0.75rem; overflow: hidden; }
  h2 { margin: 0; padding: 0.5rem 0.9rem; font-size: 0.95rem; border-bottom: 1px solid var(--line); }
  #status { float: right; font-weight: normal; color: var(--muted); }
  #status.open { color: #16a34a; }
  #log { flex: 1; margin: 0; padding: 0.5rem 0.9rem; list-style: none; overflow-y: auto; }
  #log li { padding: 0.15rem 0; font-family: ui-monospace, monospace; white-space: pre-wrap;
    overflow-wrap: anywhere; }
  #log .sent::before { content: "→ "; color: var(--muted); }
  #log .received::before { content: "← "; color: var(--accent); }
  #log .note { color: var(--muted); font-family: inherit; font-style: italic; }
  form { display: flex; gap: 0.5rem; padding: 0.6rem; border-top: 1px solid var(--line); }
  input { flex: 1; padding: 0.45rem 0.6rem; font: inherit; border: 1px solid var(--line);
    border-radius: 0.5rem; background: transparent; color: inherit; }
  button { padding: 0.45rem 1rem; font: inherit; color: white; background: var(--accent);
    border: 0; border-radius: 0.5rem; cursor: pointer; }
  button:disabled { opacity: 0.5; cursor: default; }
  iframe { flex: 1; width: 100%; border: 0; background: white; }
</style>
<header>
  <h1>wsport echo</h1>
  <p>Whatever you send to <code>/echo</code> comes straight back.</p>
</header>
<main>
  <section aria-label="Echo">
    <h2>Echo <span id="status">connecting…</span></h2>
    <ul id="log" aria-live="polite"></ul>
    <form id="form">
      <input id="text" autocomplete="off" placeholder="Type a message" autofocus>
      <button id="send" disabled>Send</button>
    </form>
  </section>
  <section aria-label="Files">
    <h2>Files <a href="/files/" target="_blank">(open)</a></h2>
    <iframe src="/files/" title="Files in the server's folder"></iframe>
  </section>
</main>
<script>
const log = document.getElementById("log");
const status = document.getElementById("status");
const send = document.getElementById("send");
const input = document.getElementById("text");
function line(kind, text) {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: "end" });
}
const socket = new WebSocket(new URL("/echo", location.href.replace(/^http/, "ws")));
socket.onopen = () => {
  status.textContent = "connected";
  status.className = "open";
  send.disabled = false;
};
socket.onmessage = (event) => line("received", String(event.data));
socket.onclose = (event) => {
  status.textContent = "closed (" + event.code + ")";
  status.className = "";
  send.disabled = true;
  line("note", "connection closed with code " + event.code);
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  if (input.value === "" || socket.readyState !== WebSocket.OPEN) return;
  socket.send(input.value);
  line("sent", input.value);
  input.value = "";
};
</script>
</html>
`;

const listing = files(".");

/** The page at `/`, the listing under `/files/`, 404 for anything else. */
function http(request: Request): Response | Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/") {
    return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  if (url.pathname === "/files") {
    return new Response(null, { status: 301, headers: { Location: "/files/" } });
  }
  if (url.pathname.startsWith("/files/")) {
    url.pathname = url.pathname.slice("/files".length);
    return listing(new Request(url, request));
  }
  return new Response("Not Found\n", { status: 404 });
}

const site = new WebSocketSite(http);
site.addHandler("/echo", Echo);
announce(await serve(site, listenOptions()));

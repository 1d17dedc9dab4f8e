/**
 * A chat room on a Cloudflare Durable Object with WebSocket hibernation: `/chat?room=name`
 * enters a room ("lobby" by default), one object per room, and every message reaches
 * everyone in it. The Worker serves the page at `/` (`/?room=name` for a room).
 *
 *     npm run workers:chat
 *
 * runs it under a local `workerd` on 127.0.0.1, at `PORT` (default 8787). To deploy it,
 * `wrangler deploy -c examples/workers/wrangler.chat.toml`.
 *
 * Idle rooms hibernate: each member's name and room are kept in `transport.data`, which
 * survives it; the handler's constructor (greeting, subscribing) does not run again on
 * wake, and need not.
 *
 * @module
 */

import { type Transport, WebSocketHandler, webSocketObject, WebSocketSite } from "../../workers.ts";

/** What each connection keeps, across hibernation. */
interface Member {
  readonly name: string;
  readonly room: string;
}

/** A room name from a request: trimmed, at most 64 characters. */
const roomName = (name: string | null) => name?.trim().slice(0, 64) || "lobby";

/** One person in one room, relaying their text to it. */
class Chat extends WebSocketHandler<Member> {
  constructor(transport: Transport<Member>) {
    super(transport);
    transport.subscribe("room");
    this.#everyone(`${transport.data.name} joined ${transport.data.room}`);
  }

  override frameReceived(frame: string | Uint8Array): void {
    if (typeof frame === "string") this.#everyone(`${this.transport.data.name}: ${frame}`);
  }

  override connectionLost(): void {
    this.transport.publish("room", `${this.transport.data.name} left`);
  }

  /** Sends a line to everyone in the room, this member included. */
  #everyone(line: string): void {
    this.transport.publish("room", line);
    this.transport.write(line);
  }
}

/** The Durable Object of one room. */
export const ChatRoom = webSocketObject(() => {
  const site = new WebSocketSite();
  site.addHandler("/chat", Chat, {
    onUpgrade: (request) => ({
      name: `guest-${crypto.randomUUID().slice(0, 4)}`,
      room: roomName(new URL(request.url).searchParams.get("room")),
    }),
  });
  return site;
}, { autoResponse: { request: "ping", response: "pong" } });

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsport chat on Workers</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --line: #8884; --muted: #8a8f98; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; display: flex; flex-direction: column;
    height: 100vh; }
  header { padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); }
  header h1 { display: inline; margin: 0 1rem 0 0; font-size: 1.1rem; }
  #state { color: var(--muted); }
  #log { flex: 1; margin: 0; padding: 1rem 1.25rem; list-style: none; overflow-y: auto; }
  #log .event { color: var(--muted); }
  form { display: flex; gap: 0.5rem; padding: 0.75rem 1.25rem; border-top: 1px solid var(--line); }
  input { flex: 1; padding: 0.5rem; font: inherit; }
  button { padding: 0.5rem 1rem; font: inherit; color: white; background: var(--accent); border: 0; }
</style>
<header><h1>wsport chat</h1><span id="state">connecting…</span></header>
<ul id="log" aria-live="polite"></ul>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Say something" autofocus>
  <button id="send" disabled>Send</button>
</form>
<script>
const log = document.getElementById("log");
const state = document.getElementById("state");
const send = document.getElementById("send");
const input = document.getElementById("text");
function add(text) {
  const item = document.createElement("li");
  item.className = /^[^:]+: /.test(text) ? "message" : "event";
  item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: "end" });
}
const url = new URL("/chat", location.href.replace(/^http/, "ws"));
url.search = location.search;
const socket = new WebSocket(url);
socket.onopen = () => {
  state.textContent = "connected";
  send.disabled = false;
};
socket.onmessage = (event) => add(String(event.data));
socket.onclose = (event) => {
  state.textContent = "closed (" + event.code + ")";
  send.disabled = true;
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  if (input.value === "" || socket.readyState !== WebSocket.OPEN) return;
  socket.send(input.value);
  input.value = "";
};
</script>
</html>
`;

/** The slice of a Durable Object namespace binding used here. */
interface Rooms {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

export default {
  /** The page at `/`; `/chat` to the room's object; 404 for anything else. */
  fetch(request: Request, env: { ROOMS: Rooms }): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    }
    if (url.pathname !== "/chat") return new Response("Not Found\n", { status: 404 });
    const room = roomName(url.searchParams.get("room"));
    return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
  },
};

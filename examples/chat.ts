/**
 * A broadcast chat room: every message a client sends reaches every client. The site
 * serves the page at `/` and the room at `/chat`.
 *
 *     deno run --allow-net --allow-read examples/chat.ts
 *     bun run examples/chat.ts
 *
 * @module
 */

import { serve, type Transport, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { announce, listenOptions } from "./listen.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>wsport chat</title>
<style>body{font:16px system-ui;max-width:40em;margin:2em auto}#log{white-space:pre-wrap}</style>
<h1>wsport chat</h1>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<script>
const log = document.getElementById("log");
const socket = new WebSocket(location.href.replace(/^http/, "ws").replace(/\\/?$/, "/chat"));
socket.onmessage = (event) => log.append(event.data + "\\n");
socket.onclose = (event) => log.append("[closed " + event.code + "]\\n");
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (input.value) socket.send(input.value);
  input.value = "";
};
</script>
`;

/** The people in the room. */
const room = new Set<Transport>();

/** Relays each text message to everyone in the room. */
export class Chat extends WebSocketHandler {
  readonly name: string;

  constructor(transport: Transport) {
    super(transport);
    this.name = `guest-${Math.floor(Math.random() * 10000)}`;
    room.add(transport);
    broadcast(`${this.name} joined`);
  }

  override frameReceived(frame: string | Uint8Array): void {
    if (typeof frame === "string") broadcast(`${this.name}: ${frame}`);
  }

  override connectionLost(): void {
    room.delete(this.transport);
    broadcast(`${this.name} left`);
  }
}

function broadcast(text: string): void {
  for (const member of room) member.write(text);
}

const site = new WebSocketSite((request) =>
  new URL(request.url).pathname === "/"
    ? new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } })
    : new Response("Not Found\n", { status: 404 })
);
site.addHandler("/chat", Chat);
announce(await serve(site, listenOptions()));

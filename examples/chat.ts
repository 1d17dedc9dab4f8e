/**
 * Chat rooms on topics: `/chat?room=name` enters a room ("lobby" by default), a
 * `/join name` message moves to another, and every other message reaches everyone in
 * the room. The site serves the page at `/` (`/?room=name` for a room).
 *
 * Nothing is lost to a dropped connection: each message reaches the page as
 * `<id> <text>` (the site's `encodePublished`), and the page, which reconnects by itself
 * with backoff, comes back as `/chat?name=<its name>&since=<last id>`, so the site sends
 * what it missed (`transport.subscribe(topic, { since })`), once, then live messages.
 *
 *     npm run example:chat
 *     deno run --allow-net --allow-env examples/chat.ts
 *     bun run examples/chat.ts
 *
 * `PORT` sets the port (default 8080); Deno reads it only with `--allow-env`.
 *
 * With `REDIS_URL` set, rooms are shared by every process on that Redis (through
 * `RedisBackplane` and node-redis, loaded only then): run it several times on several
 * ports, on one port with `REUSE_PORT=1`, or with `examples/cluster.ts`. With pub/sub,
 * message ids are each process's own, so a page resumes on the process it left; with
 * `RedisStreamsBackplane` instead, ids are the stream's, the same in every process.
 *
 *     REDIS_URL=redis://127.0.0.1:6379 PORT=8081 deno run -A examples/chat.ts
 *     REDIS_URL=redis://127.0.0.1:6379 PORT=8082 bun run examples/chat.ts
 *
 * The processes meet on the Redis channel `REDIS_CHANNEL` (default "wsport-chat"): one
 * channel per application, so that others on the same Redis stay apart. Anyone who can
 * publish on that channel reaches every room, so keep the Redis private.
 *
 * @module
 */

import { type Backplane, serve, type Transport, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { RedisBackplane } from "../redis.ts";
import process from "node:process";
import { announce, env, listenOptions } from "./listen.ts";

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsport chat</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --line: #8884; --muted: #8a8f98;
    --bubble: #8881; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; display: flex; flex-direction: column;
    height: 100vh; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem;
    padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0 auto 0 0; font-size: 1.1rem; }
  .badge { padding: 0.15rem 0.65rem; border: 1px solid var(--line); border-radius: 999px;
    font-size: 0.9rem; }
  .badge b { font-weight: 600; }
  #state { color: var(--muted); font-size: 0.85rem; }
  #state.open { color: #16a34a; }
  #log { flex: 1; margin: 0; padding: 1rem 1.25rem; list-style: none; overflow-y: auto;
    display: flex; flex-direction: column; gap: 0.4rem; }
  #log li { max-width: min(36rem, 85%); overflow-wrap: anywhere; white-space: pre-wrap; }
  #log .message { align-self: flex-start; padding: 0.35rem 0.75rem; border-radius: 0.9rem;
    background: var(--bubble); }
  #log .message .from { display: block; font-size: 0.75rem; color: var(--accent); }
  #log .mine { align-self: flex-end; background: var(--accent); color: white; }
  #log .mine .from { display: none; }
  #log .event { align-self: center; color: var(--muted); font-size: 0.85rem; }
  form { display: flex; gap: 0.5rem; padding: 0.75rem 1.25rem; border-top: 1px solid var(--line); }
  input { flex: 1; padding: 0.5rem 0.75rem; font: inherit; border: 1px solid var(--line);
    border-radius: 0.6rem; background: transparent; color: inherit; }
  button { padding: 0.5rem 1.1rem; font: inherit; color: white; background: var(--accent);
    border: 0; border-radius: 0.6rem; cursor: pointer; }
  button:disabled { opacity: 0.5; cursor: default; }
  footer { padding: 0 1.25rem 0.75rem; color: var(--muted); font-size: 0.8rem; }
</style>
<header>
  <h1>wsport chat</h1>
  <span class="badge">You are <b id="me">…</b></span>
  <span class="badge">Room <b id="room">…</b></span>
  <span id="state">connecting…</span>
</header>
<ul id="log" aria-live="polite"></ul>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Say something, or /join another-room" autofocus>
  <button id="send" disabled>Send</button>
</form>
<footer>Type <code>/join name</code> to change rooms; open this page in two windows to talk to
yourself.</footer>
<script>
const log = document.getElementById("log");
const me = document.getElementById("me");
const room = document.getElementById("room");
const state = document.getElementById("state");
const send = document.getElementById("send");
const input = document.getElementById("text");
let name = "";

function add(className, text, from) {
  const item = document.createElement("li");
  item.className = className;
  if (from !== undefined) {
    const label = document.createElement("span");
    label.className = "from";
    label.textContent = from;
    item.append(label);
  }
  item.append(text);
  log.append(item);
  item.scrollIntoView({ block: "end" });
}

function enter(newRoom) {
  room.textContent = newRoom;
  document.title = newRoom + " · wsport chat";
  const url = new URL(location.href);
  url.searchParams.set("room", newRoom);
  history.replaceState(null, "", url);
}

let socket;
let lastId;
let retries = 0;

/** Compares two message ids ("ms-seq"). */
function compareIds(a, b) {
  const [aTime, aSeq] = a.split("-").map(Number);
  const [bTime, bSeq] = b.split("-").map(Number);
  return aTime - bTime || aSeq - bSeq;
}

/** Connects, or comes back as who we were, since the last message we showed. */
function connect() {
  const url = new URL("/chat", location.href.replace(/^http/, "ws"));
  url.search = location.search;
  if (name !== "") url.searchParams.set("name", name);
  if (lastId !== undefined) url.searchParams.set("since", lastId);
  socket = new WebSocket(url);
  socket.onopen = () => {
    retries = 0;
    state.textContent = "connected";
    state.className = "open";
    send.disabled = false;
  };
  socket.onmessage = (event) => show(String(event.data));
  socket.onclose = (event) => {
    // Back off: 0.25 s, 0.5 s, 1 s, … up to 8 s, with jitter.
    const delay = Math.min(8000, 250 * 2 ** retries++) * (0.5 + Math.random() / 2);
    state.textContent = "disconnected (" + event.code + "), reconnecting…";
    state.className = "";
    send.disabled = true;
    setTimeout(connect, delay);
  };
}

function show(line) {
  // Published lines carry their id first: "1733… guest-1: hi". Skip any already shown.
  const stamped = /^(\\d+-\\d+) ([\\s\\S]*)$/.exec(line);
  if (stamped) {
    if (lastId !== undefined && compareIds(stamped[1], lastId) <= 0) return;
    lastId = stamped[1];
  }
  const text = stamped ? stamped[2] : line;
  // The server speaks in lines: "guest-1: hi", "guest-1 joined room", "guest-1 left ...".
  const said = /^(guest-\\d+): ([\\s\\S]*)$/.exec(text);
  if (said) {
    add(said[1] === name ? "message mine" : "message", said[2], said[1]);
    return;
  }
  const joined = /^(guest-\\d+) joined ([\\s\\S]*)$/.exec(text);
  if (joined && (name === "" || joined[1] === name)) {
    // The first line is always our own arrival: it tells us who we are.
    name = joined[1];
    me.textContent = name;
    enter(joined[2]);
    add("event", "You joined " + joined[2]);
    return;
  }
  add("event", text);
}

connect();
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  if (input.value.trim() === "" || socket.readyState !== WebSocket.OPEN) return;
  socket.send(input.value);
  input.value = "";
};
</script>
</html>
`;

/** The topic of a room. */
const topic = (room: string) => `room:${room}`;

/** A room name from a request or a `/join` message: trimmed, at most 64 characters. */
const roomName = (name: string | null) => name?.trim().slice(0, 64) || "lobby";

/** One person: in one room at a time, relaying their text to it. */
export class Chat extends WebSocketHandler {
  readonly name: string;
  #room: string;

  constructor(transport: Transport) {
    super(transport);
    const params = new URL(transport.request.url).searchParams;
    // A page coming back keeps its name, and gets what it missed since its last id.
    const name = params.get("name") ?? "";
    this.name = /^guest-\d{1,4}$/.test(name) ? name : `guest-${Math.floor(Math.random() * 10000)}`;
    this.#room = roomName(params.get("room"));
    console.log(`${this.name} connected to process ${process.pid}`);
    this.#enter(params.get("since") ?? undefined);
  }

  override frameReceived(frame: string | Uint8Array): void {
    if (typeof frame !== "string") return;
    const join = /^\/join(?:\s+(.*))?$/.exec(frame);
    if (join === null) {
      site.publish(topic(this.#room), `${this.name}: ${frame}`);
      return;
    }
    const room = roomName(join[1] ?? null);
    if (room === this.#room) return;
    this.transport.unsubscribe(topic(this.#room));
    site.publish(topic(this.#room), `${this.name} left for ${room}`);
    this.#room = room;
    this.#enter();
  }

  override connectionLost(): void {
    site.publish(topic(this.#room), `${this.name} left`);
  }

  #enter(since?: string): void {
    if (!this.transport.subscribe(topic(this.#room), { since })) {
      this.transport.write("Some messages were missed while you were away.");
    }
    const arrival = since === undefined ? `joined ${this.#room}` : "is back";
    site.publish(topic(this.#room), `${this.name} ${arrival}`);
  }
}

/** A backplane on the Redis at `url`, through node-redis. */
async function redisBackplane(url: string): Promise<Backplane> {
  const { createClient } = await import("redis");
  const publisher = createClient({ url });
  const subscriber = publisher.duplicate();
  // The backplane reports outages; node-redis wants a listener so as not to throw.
  publisher.on("error", () => {});
  subscriber.on("error", () => {});
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return new RedisBackplane({
    publish: (channel, message) => publisher.publish(channel, message),
    subscribe: (channels, listener) => subscriber.subscribe(channels, listener),
    unsubscribe: (channels) => subscriber.unsubscribe(channels),
  }, {
    // One channel per application: the default, "wsport", is every application's.
    channel: env("REDIS_CHANNEL") ?? "wsport-chat",
    onStatus: (status) => console.log(`redis backplane: ${status}`),
    onError: (error) => console.error(`redis backplane: ${error}`),
  });
}

const redisUrl = env("REDIS_URL");
const site = new WebSocketSite(
  (request) =>
    new URL(request.url).pathname === "/"
      ? new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } })
      : new Response("Not Found\n", { status: 404 }),
  {
    backplane: redisUrl === undefined ? undefined : await redisBackplane(redisUrl),
    // Each published line reaches pages with its id first, for them to resume from.
    encodePublished: (data, id) => `${id} ${data}`,
  },
);
site.addHandler("/chat", Chat);
announce(await serve(site, listenOptions()));

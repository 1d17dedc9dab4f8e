/**
 * Chat rooms on topics: `/chat?room=name` enters a room ("lobby" by default), a
 * `/join name` message moves to another, and every other message reaches everyone in
 * the room. The site serves the page at `/` (`/?room=name` for a room).
 *
 *     deno run --allow-net --allow-env examples/chat.ts
 *     bun run examples/chat.ts
 *
 * With `REDIS_URL` set, rooms are shared by every process on that Redis (through
 * `RedisBackplane` and node-redis, loaded only then): run it several times on several
 * ports, on one port with `REUSE_PORT=1`, or with `examples/cluster.ts`.
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

import {
  type Backplane,
  RedisBackplane,
  serve,
  type Transport,
  WebSocketHandler,
  WebSocketSite,
} from "../mod.ts";
import process from "node:process";
import { announce, env, listenOptions } from "./listen.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>wsport chat</title>
<style>body{font:16px system-ui;max-width:40em;margin:2em auto}#log{white-space:pre-wrap}</style>
<h1>wsport chat</h1>
<p>Type <code>/join name</code> to change rooms.</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<script>
const log = document.getElementById("log");
const url = new URL("/chat", location.href.replace(/^http/, "ws"));
url.search = location.search;
const socket = new WebSocket(url);
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

/** The topic of a room. */
const topic = (room: string) => `room:${room}`;

/** A room name from a request or a `/join` message: trimmed, at most 64 characters. */
const roomName = (name: string | null) => name?.trim().slice(0, 64) || "lobby";

/** One person: in one room at a time, relaying their text to it. */
export class Chat extends WebSocketHandler {
  readonly name = `guest-${Math.floor(Math.random() * 10000)}`;
  #room: string;

  constructor(transport: Transport) {
    super(transport);
    this.#room = roomName(new URL(transport.request.url).searchParams.get("room"));
    console.log(`${this.name} connected to process ${process.pid}`);
    this.#enter();
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

  #enter(): void {
    this.transport.subscribe(topic(this.#room));
    site.publish(topic(this.#room), `${this.name} joined ${this.#room}`);
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
    subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
    unsubscribe: (channel) => subscriber.unsubscribe(channel),
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
  { backplane: redisUrl === undefined ? undefined : await redisBackplane(redisUrl) },
);
site.addHandler("/chat", Chat);
announce(await serve(site, listenOptions()));

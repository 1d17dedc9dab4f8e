/**
 * The Worker the tests in this folder run under `workerd`: a plain Worker's site on
 * most paths, and a Durable Object's site (with hibernation) under `/object/`.
 *
 * Plain Worker routes: `/echo`; `/counter` (the counter example's handler); `/chat`
 * (subprotocols chat.v2, chat.v1); `/guarded` (`onUpgrade`: `?user=` or 401, the user
 * in `data`); `/small` (an echo with a 1 KiB limit); `/closer` (a message `close CODE
 * REASON` closes with them, so an invalid code throws: 1011); `/room` (a member of a
 * topic, which a plain Worker's other requests cannot reach).
 *
 * Object routes (`?name=` picks the object): `/object/room` (a member of one topic,
 * publishing each message to the others); `/object/observe` (hears the `lost` topic);
 * `/object/closer` (as `/closer`, and tells `lost` how it closed); `/object/count` (a
 * count kept in `data`, across restarts). `POST /object/restart` makes the object anew
 * over the same sockets, as a wake from hibernation does.
 * @module
 */

import { Counter } from "../../examples/counter_handler.ts";
import {
  type CloseInfo,
  type Transport,
  WebSocketHandler,
  type WebSocketObject,
  webSocketObject,
  type WebSocketObjectState,
  WebSocketSite,
  type WorkersWebSocket,
} from "../../workers.ts";

/** Writes every message back. */
class Echo extends WebSocketHandler {
  override frameReceived(message: string | Uint8Array): void {
    this.transport.write(message);
  }
}

/** Greets with the user `onUpgrade` found, then echoes. */
class Greeter extends WebSocketHandler<{ user: string }> {
  constructor(transport: Transport<{ user: string }>) {
    super(transport);
    transport.write(`hello ${transport.data.user}`);
  }

  override frameReceived(message: string | Uint8Array): void {
    this.transport.write(message);
  }
}

/** `close CODE REASON` closes with them; anything else is echoed. */
class Closer extends WebSocketHandler {
  override frameReceived(message: string | Uint8Array): void {
    const command = typeof message === "string" ? /^close (\d+) ?(.*)$/.exec(message) : null;
    if (command === null) this.transport.write(message);
    else this.transport.close(Number(command[1]), command[2]);
  }
}

/** Publishes each message to the room it joined, then says so to its own peer. */
class PlainMember extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("room");
  }

  override frameReceived(message: string | Uint8Array): void {
    this.transport.publish("room", message);
    this.transport.write(`published ${String(message)}`);
  }
}

const site = new WebSocketSite();
site.addHandler("/echo", Echo);
site.addHandler("/room", PlainMember);
site.addHandler("/counter", Counter);
site.addHandler("/chat", Echo, { protocols: ["chat.v2", "chat.v1"] });
site.addHandler("/guarded", Greeter, {
  onUpgrade(request) {
    const user = new URL(request.url).searchParams.get("user");
    return user === null ? new Response("Who are you?\n", { status: 401 }) : { user };
  },
});
site.addHandler("/small", Echo, { maxMessageBytes: 1024 });
site.addHandler("/closer", Closer);

/** How many object instances this isolate has made: a restart makes one more. */
let instances = 0;

/** A member of the room: what it says reaches every other member. */
class Member extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("room");
  }

  override frameReceived(message: string | Uint8Array): void {
    this.transport.publish("room", message);
  }
}

/** Hears how `/object/closer` connections closed. */
class Observer extends WebSocketHandler {
  constructor(transport: Transport) {
    super(transport);
    transport.subscribe("lost");
  }
}

/** A closer that tells the observers how it closed. */
class ReportingCloser extends Closer {
  override connectionLost(info: CloseInfo): void {
    this.transport.publish("lost", `${info.code} ${info.reason} ${info.wasClean}`);
  }
}

/** Counts messages in `data`, which survives a restart; says which instance answered. */
class DataCounter extends WebSocketHandler<{ count: number }> {
  override frameReceived(): void {
    this.transport.data.count++;
    this.transport.write(`${this.transport.data.count} ${instances}`);
  }
}

/** The object's own site. */
function objectSite(): WebSocketSite {
  const site = new WebSocketSite();
  site.addHandler("/object/room", Member);
  site.addHandler("/object/observe", Observer);
  site.addHandler("/object/closer", ReportingCloser);
  site.addHandler("/object/count", DataCounter, { onUpgrade: () => ({ count: 0 }) });
  return site;
}

const Inner = webSocketObject(() => {
  instances++;
  return objectSite();
}, { autoResponse: { request: "ping", response: "pong" } });

/**
 * The Durable Object: wsport's, made anew on `POST /object/restart` over the same
 * state, as the runtime does when a hibernated object wakes.
 */
export class TestObject implements Omit<WebSocketObject, "site"> {
  readonly #state: WebSocketObjectState;
  #inner: WebSocketObject;

  constructor(state: WebSocketObjectState, env: unknown) {
    this.#state = state;
    this.#inner = new Inner(state, env);
  }

  fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/object/restart") return this.#inner.fetch(request);
    this.#inner = new Inner(this.#state, undefined);
    return Promise.resolve(new Response(`instance ${instances}\n`));
  }

  webSocketMessage(socket: WorkersWebSocket, message: string | ArrayBuffer): void {
    this.#inner.webSocketMessage(socket, message);
  }

  webSocketClose(socket: WorkersWebSocket, code: number, reason: string, wasClean: boolean): void {
    this.#inner.webSocketClose(socket, code, reason, wasClean);
  }

  webSocketError(socket: WorkersWebSocket, error: unknown): void {
    this.#inner.webSocketError(socket, error);
  }
}

/** The slice of a Durable Object namespace binding used here. */
interface ObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

export default {
  fetch(request: Request, env: { OBJECTS: ObjectNamespace }): Promise<Response> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/object/")) return site.fetch(request);
    const name = url.searchParams.get("name") ?? "test";
    return env.OBJECTS.get(env.OBJECTS.idFromName(name)).fetch(request);
  },
};

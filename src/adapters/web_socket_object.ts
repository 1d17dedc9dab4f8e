/**
 * `webSocketObject()`: a site's routes in a Cloudflare Durable Object, with WebSocket
 * hibernation (`ctx.acceptWebSocket`), so that idle connections cost nothing.
 * @module
 */

import { CloseCode } from "../core/constants.ts";
import type { Link, NativePubSub } from "../site/link.ts";
import { type AcceptedUpgrade, siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import {
  answerClose,
  upgradeResponse,
  webSocketPair,
  WorkersLink,
  workersMessage,
  workersRemoteAddress,
  type WorkersWebSocket,
} from "./workers.ts";

/**
 * The slice of a Durable Object's state (its `ctx`) this adapter uses (declared here so
 * that users need not install `@cloudflare/workers-types`).
 */
export interface WebSocketObjectState {
  /** Accepts a socket for hibernation: its events come back as the object's methods. */
  acceptWebSocket(socket: WorkersWebSocket, tags?: string[]): void;
  /** The object's hibernatable sockets. */
  getWebSockets(tag?: string): WorkersWebSocket[];
  /** Sets the request the runtime answers by itself, even while hibernated. */
  setWebSocketAutoResponse(pair?: unknown): void;
}

/** Options of {@linkcode webSocketObject}. */
export interface WebSocketObjectOptions {
  /**
   * A heartbeat the runtime answers by itself, without waking the object: a text
   * message of exactly `request` from a client gets `response` back
   * (`ctx.setWebSocketAutoResponse`). The standard WebSocket has no ping API, so this
   * is how a client checks the connection while the object hibernates.
   * @default none
   */
  autoResponse?: { request: string; response: string };
}

/** A Durable Object that serves a site's routes: what {@linkcode webSocketObject} makes. */
export interface WebSocketObject {
  /** The object's own site. */
  readonly site: WebSocketSite;
  /** Serves a request: upgrades to the site's routes, plain HTTP to its HTTP handler. */
  fetch(request: Request): Promise<Response>;
  /** The runtime delivers a message (after waking the object if it hibernated). */
  webSocketMessage(socket: WorkersWebSocket, message: string | ArrayBuffer): void;
  /** The runtime reports a socket closed. */
  webSocketClose(socket: WorkersWebSocket, code: number, reason: string, wasClean: boolean): void;
  /** The runtime reports a socket failed. */
  webSocketError(socket: WorkersWebSocket, error: unknown): void;
}

/** A Durable Object class, as the Worker exports it and `wrangler.toml` names it. */
export type WebSocketObjectClass<Env> = new (
  state: WebSocketObjectState,
  env: Env,
) => WebSocketObject;

/**
 * What wsport keeps with each socket (`serializeAttachment`), to remake its session when
 * the object wakes: the route, the subprotocol, the upgrade's URL (not its headers: the
 * whole attachment must fit in 2,048 bytes), the peer's address, the topics, and `data`.
 */
interface Attachment {
  readonly wsport: 1;
  readonly path: string;
  readonly protocol: string;
  readonly url: string;
  readonly remoteAddress: string | undefined;
  readonly topics: readonly string[];
  readonly data: unknown;
}

/** Whether a socket's attachment is wsport's. */
function isAttachment(value: unknown): value is Attachment {
  return typeof value === "object" && value !== null && (value as Attachment).wsport === 1;
}

/** A topic's name in the site's topic index, without the site's prefix (`wsport1:`). */
const topicName = (prefixed: string) => prefixed.slice(prefixed.indexOf(":") + 1);

/** A hibernatable socket's link: it keeps its session's state with the socket. */
class ObjectLink extends WorkersLink {
  readonly pubsub: ObjectPubSub;
  /** The topics it subscribes to, as the handler named them. */
  readonly topics: Set<string> = new Set();
  readonly #attachment: Omit<Attachment, "topics" | "data">;
  readonly #onSaveError: (error: unknown) => void;

  constructor(
    socket: WorkersWebSocket,
    decision: AcceptedUpgrade,
    attachment: Omit<Attachment, "topics" | "data">,
    pubsub: ObjectPubSub,
    onError: (error: unknown) => void,
  ) {
    super(socket, decision.route.limits, onError);
    this.pubsub = pubsub;
    this.#attachment = attachment;
    this.#onSaveError = onError;
  }

  /**
   * Keeps the session's state with the socket, for after hibernation. An attachment over
   * the runtime's limit (2,048 bytes), or `data` that cannot be cloned, is reported to
   * `onError`; the connection stays open, but would wake without its latest state.
   */
  save(): void {
    const session = this.session;
    if (session === undefined || !this.isOpen) return;
    try {
      this.socket.serializeAttachment(
        { ...this.#attachment, topics: [...this.topics], data: session.data } satisfies Attachment,
      );
    } catch (error) {
      this.#onSaveError(error);
    }
  }
}

/**
 * The topics of one object's sockets: the site's topic index reaches them through it,
 * and it records each socket's topics in its attachment. Rebuilt on wake from the
 * attachments, so a topic reaches every socket of the object, hibernated or not.
 */
class ObjectPubSub implements NativePubSub {
  readonly #members = new Map<string, Set<ObjectLink>>();

  subscribe(link: Link, topic: string): void {
    const object = link as ObjectLink;
    let members = this.#members.get(topic);
    if (members === undefined) this.#members.set(topic, members = new Set());
    members.add(object);
    object.topics.add(topicName(topic));
    object.save();
  }

  unsubscribe(link: Link, topic: string): void {
    const object = link as ObjectLink;
    const members = this.#members.get(topic);
    members?.delete(object);
    if (members?.size === 0) this.#members.delete(topic);
    object.topics.delete(topicName(topic));
    object.save();
  }

  publish(topic: string, data: string | Uint8Array, except?: Link): void {
    for (const link of this.#members.get(topic) ?? []) {
      if (link !== except) link.send(data);
    }
  }
}

/**
 * Makes a Durable Object class that serves the routes of a site, with WebSocket
 * hibernation: sockets are accepted with `ctx.acceptWebSocket`, so the runtime may evict
 * the object while they stay open, and wakes it for their next event.
 *
 * Each object makes its own site with `makeSite` (sockets of one object cannot be
 * reached from another), and a topic reaches every socket of the object. What survives
 * hibernation, kept with each socket (`serializeAttachment`, at most 2,048 bytes
 * serialized): the route, the subprotocol, the upgrade request's URL, the peer's address,
 * the topics subscribed, and `transport.data`, saved after each event and each
 * subscription. On wake the handler is remade *without running its constructor* (and
 * without instance field initialisers): what a handler must keep belongs in
 * `transport.data`, an object whose fields it changes (a structured-clonable value).
 * `transport.request` is then a `Request` of that URL alone, without the original
 * headers. Timers prevent hibernation, so none runs: the idle and close timeouts and
 * `drained()` are checked only when a message arrives, and there is no heartbeat but the
 * runtime's own `autoResponse`.
 *
 * @example A chat room per name
 * ```ts
 * import { type Transport, webSocketObject, WebSocketHandler, WebSocketSite } from "wsport/workers";
 *
 * class Room extends WebSocketHandler {
 *   constructor(transport: Transport) {
 *     super(transport);
 *     transport.subscribe("room");
 *   }
 *   override frameReceived(message: string | Uint8Array) {
 *     this.transport.publish("room", message);
 *   }
 * }
 * export const ChatRoom = webSocketObject(() => {
 *   const site = new WebSocketSite();
 *   site.addHandler("/chat", Room);
 *   return site;
 * });
 * ```
 */
export function webSocketObject<Env = unknown>(
  makeSite: (env: Env, state: WebSocketObjectState) => WebSocketSite,
  options: WebSocketObjectOptions = {},
): WebSocketObjectClass<Env> {
  const autoResponse = options.autoResponse;
  return class implements WebSocketObject {
    readonly site: WebSocketSite;
    readonly #state: WebSocketObjectState;
    readonly #pubsub = new ObjectPubSub();
    /** The links of the object's sockets, remade from their attachments on wake. */
    #links: Map<WorkersWebSocket, ObjectLink> | undefined;

    constructor(state: WebSocketObjectState, env: Env) {
      this.#state = state;
      this.site = makeSite(env, state);
      if (autoResponse !== undefined) {
        const Pair = (globalThis as unknown as {
          WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
        }).WebSocketRequestResponsePair;
        state.setWebSocketAutoResponse(new Pair(autoResponse.request, autoResponse.response));
      }
    }

    async fetch(request: Request): Promise<Response> {
      const internals = siteInternals(this.site);
      try {
        const links = this.#wake();
        return await internals.handle(request, {
          upgrade: (decision) => this.#accept(links, request, decision),
        });
      } catch (error) {
        return internals.requestFailed(error);
      }
    }

    webSocketMessage(socket: WorkersWebSocket, message: string | ArrayBuffer): void {
      const link = this.#wake().get(socket);
      if (link === undefined) return;
      link.received(workersMessage(message));
      // No timer runs in the object (one would keep it awake): deadlines and a drained
      // send buffer are checked as events come.
      link.tick(performance.now());
      link.save();
    }

    webSocketClose(
      socket: WorkersWebSocket,
      code: number,
      reason: string,
      wasClean: boolean,
    ): void {
      const links = this.#wake();
      const link = links.get(socket);
      links.delete(socket);
      link?.ended(answerClose(socket, code, reason, wasClean));
    }

    webSocketError(socket: WorkersWebSocket, error: unknown): void {
      const links = this.#wake();
      const link = links.get(socket);
      links.delete(socket);
      siteInternals(this.site).reportError(error, link?.session);
      link?.ended({ code: CloseCode.AbnormalClosure, reason: "", wasClean: false });
    }

    /** Accepts an upgrade for hibernation and opens its session. */
    #accept(
      links: Map<WorkersWebSocket, ObjectLink>,
      request: Request,
      decision: AcceptedUpgrade,
    ): Response {
      const { client, server } = webSocketPair();
      this.#state.acceptWebSocket(server);
      const remoteAddress = workersRemoteAddress(request);
      const link = this.#link(server, decision, {
        wsport: 1,
        path: decision.route.path,
        protocol: decision.acceptance.protocol,
        url: request.url,
        remoteAddress,
      });
      links.set(server, link);
      link.session = siteInternals(this.site).open({ link, request, decision, remoteAddress });
      link.save();
      return upgradeResponse(client, decision.acceptance.protocol);
    }

    #link(
      socket: WorkersWebSocket,
      decision: AcceptedUpgrade,
      attachment: Omit<Attachment, "topics" | "data">,
    ): ObjectLink {
      const internals = siteInternals(this.site);
      const link: ObjectLink = new ObjectLink(
        socket,
        decision,
        attachment,
        this.#pubsub,
        (error) => internals.reportError(error, link.session),
      );
      return link;
    }

    /**
     * The links of the object's sockets. After a wake (or any new instance) they are
     * remade from the sockets' attachments, before any event is handled, so that topics
     * reach every socket and not only the one that woke the object.
     */
    #wake(): Map<WorkersWebSocket, ObjectLink> {
      if (this.#links !== undefined) return this.#links;
      const links = this.#links = new Map();
      const internals = siteInternals(this.site);
      for (const socket of this.#state.getWebSockets()) {
        const attachment = socket.deserializeAttachment();
        const route = isAttachment(attachment) ? internals.routes.get(attachment.path) : undefined;
        if (!isAttachment(attachment) || route === undefined) {
          // Not wsport's, or its route is gone since a deploy: nothing can serve it.
          try {
            socket.close(CloseCode.InternalError, "No handler for this connection");
          } catch {
            // Closing already.
          }
          continue;
        }
        const decision: AcceptedUpgrade = {
          kind: "accept",
          route,
          acceptance: { key: "", protocol: attachment.protocol, extensions: "" },
          data: attachment.data,
        };
        const link = this.#link(socket, decision, {
          wsport: 1,
          path: attachment.path,
          protocol: attachment.protocol,
          url: attachment.url,
          remoteAddress: attachment.remoteAddress,
        });
        links.set(socket, link);
        const session = internals.open({
          link,
          request: { toRequest: () => new Request(attachment.url) },
          decision,
          remoteAddress: attachment.remoteAddress,
          resumed: true,
        });
        link.session = session;
        for (const topic of attachment.topics) session.subscribe(topic);
      }
      return links;
    }
  };
}

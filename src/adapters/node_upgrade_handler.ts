/**
 * WebSockets on an existing `node:http` server: {@linkcode createUpgradeHandler} for an
 * app that routes upgrades itself, and {@linkcode attachNode} for
 * `serve(site, { server })`.
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { siteInternals } from "../site/internals.ts";
import type { WebSocketSite } from "../site/site.ts";
import { NodeRequestHead, writeRawResponse } from "./node_http.ts";
import { NodeSockets, rejection } from "./node_sockets.ts";
import type { NodeServer, Server } from "./server.ts";

/**
 * A site's WebSockets for an app's own `node:http` server, as `ws`'s `noServer` mode and
 * `handleUpgrade()`: the app hands over the upgrade requests it wants wsport to serve.
 */
export interface UpgradeHandler {
  /** Whether a request's path is one of the site's routes. */
  handles(request: IncomingMessage): boolean;
  /**
   * Serves an upgrade request, as the server's `upgrade` event gives it: a WebSocket on
   * its route with every limit, or the site's refusal (a path with no route gets the
   * site's answer, 404 by default). The handshake deadline counts from this call.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): void;
  /**
   * Closes the connections it opened with 1001 (dropping those that do not answer within
   * the close timeout) and refuses later upgrades with 503. The server is left as it is.
   */
  close(): Promise<void>;
}

/**
 * Makes a handler that serves a site's WebSockets on upgrades an app passes it from its
 * own server, with wsport's framing and limits (the Node adapter's).
 *
 * @example With the `upgrade` event of a bare `http.Server`
 * ```ts
 * import { createServer } from "node:http";
 * import { WebSocketSite } from "wsport";
 * const site = new WebSocketSite();
 * const upgrades = createUpgradeHandler(site);
 * const server = createServer((_request, response) => response.end("hello"));
 * server.on("upgrade", (request, socket, head) => {
 *   if (upgrades.handles(request)) upgrades.handleUpgrade(request, socket, head);
 *   else socket.destroy();
 * });
 * server.listen(8080);
 * ```
 */
export function createUpgradeHandler(site: WebSocketSite): UpgradeHandler {
  const sockets = new NodeSockets(site);
  const routes = siteInternals(site).routes;
  let closing = false;
  return {
    handles: (request) => routes.has(new NodeRequestHead(request).pathname),
    handleUpgrade: (request, duplex, head) => {
      const socket = duplex as Socket;
      if (!closing) return sockets.upgrade(request, socket, head);
      socket.on("error", () => socket.destroy());
      writeRawResponse(rejection(503, "Server shutting down"), socket, site.limits)
        .catch(() => socket.destroy());
    },
    close: () => {
      closing = true;
      return sockets.close();
    },
  };
}

/** The `upgrade` listeners `attachNode` added, over every server, with their routes. */
const attachedListeners = new WeakMap<object, (request: IncomingMessage) => boolean>();

/**
 * Takes the upgrades of an existing server, as `serve(site, { server })` does: those on
 * the site's routes, and those on other paths when every `upgrade` listener of the
 * server is a wsport site's (the first one attached answers them, so that no upgrade is
 * left unanswered and without a deadline); beside another library's listener, those
 * are its to take. The returned server's `shutdown()` closes wsport's connections and
 * removes its listener; the server itself keeps running.
 */
export function attachNode(site: WebSocketSite, server: NodeServer, signal?: AbortSignal): Server {
  const upgrades = createUpgradeHandler(site);
  const listener = (request: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    if (upgrades.handles(request) || answersOtherPaths(server, listener, request)) {
      upgrades.handleUpgrade(request, socket, head);
    }
  };
  attachedListeners.set(listener, upgrades.handles);
  server.on("upgrade", listener);
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    shuttingDown ??= (async () => {
      server.off("upgrade", listener);
      await upgrades.close();
      resolveFinished();
    })();
  signal?.addEventListener("abort", () => shutdown(), { once: true });
  const address = () => server.address();
  return {
    adapter: "node",
    get port() {
      const bound = address();
      return bound !== null && typeof bound === "object" ? bound.port : 0;
    },
    get hostname() {
      const bound = address();
      return bound !== null && typeof bound === "object" ? bound.address : "";
    },
    get path() {
      const bound = address();
      return typeof bound === "string" ? bound : undefined;
    },
    finished,
    shutdown,
  };
}

/**
 * Whether `listener` answers an upgrade none of the server's sites routes: when it is
 * the first of the server's upgrade listeners and all of them are wsport sites', none of
 * which has the request's path.
 */
function answersOtherPaths(
  server: NodeServer,
  listener: object,
  request: IncomingMessage,
): boolean {
  const listeners = server.listeners("upgrade");
  return listeners[0] === listener && listeners.every((each) => {
    const handles = attachedListeners.get(each as object);
    return handles !== undefined && (each === listener || !handles(request));
  });
}

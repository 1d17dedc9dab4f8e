/**
 * What every framework test checks once wsport is attached to the framework's server:
 * the framework keeps its plain requests, wsport serves its routes, and `shutdown()`
 * closes wsport's connections with 1001 while the server runs on.
 * @module
 */

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { serve } from "../../src/adapters/serve.ts";
import type { NodeServer, Server } from "../../src/adapters/server.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { Client, within } from "../helpers/client.ts";
import { Echo } from "../helpers/server.ts";

/** A site with an echo on `/ws`. */
export function echoSite(): WebSocketSite {
  const site = new WebSocketSite();
  site.addHandler("/ws", Echo);
  return site;
}

/** The slice of a `node:http` server the tests use beside wsport's. */
export interface ListeningServer extends NodeServer {
  close(callback?: (error?: Error) => void): unknown;
  closeAllConnections?(): void;
  readonly listening: boolean;
}

/** Starts listening on 127.0.0.1, a free port, and gives the port. */
export function listen(
  server: { listen(port: number, host: string, callback: () => void): unknown },
): Promise<void> {
  return within(new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve())), "listen");
}

/** The port a listening server is bound to. */
export function portOf(server: NodeServer): number {
  return (server.address() as AddressInfo).port;
}

/** GETs `path` and gives the status and body. */
export async function get(port: number, path: string): Promise<[number, string]> {
  const response = await within(fetch(`http://127.0.0.1:${port}${path}`), `GET ${path}`);
  return [response.status, await response.text()];
}

/**
 * Attaches `site` (an echo on `/ws`) to a listening server with `serve(site, { server })`
 * and checks it: `plain` answers `expected` from the framework, before and after wsport's
 * shutdown; `/ws` echoes; shutdown closes the WebSocket with 1001; the server still
 * listens afterwards. Closes the server at the end.
 */
export async function assertAttached(
  server: ListeningServer,
  plain: { path: string; expected: [number, string] },
): Promise<void> {
  const port = portOf(server);
  let wsport: Server | undefined;
  try {
    wsport = await serve(echoSite(), { server });
    assert.equal(wsport.adapter, "node");
    assert.equal(wsport.port, port);
    assert.deepEqual(await get(port, plain.path), plain.expected);
    const client = await Client.open(`ws://127.0.0.1:${port}/ws`);
    client.send("hello");
    assert.equal(await client.next(), "hello");
    await within(wsport.shutdown(), "wsport shutting down");
    await within(wsport.finished, "wsport finishing");
    assert.deepEqual(await within(client.closed, "the client to close"), {
      code: 1001,
      reason: "Server shutting down",
      wasClean: true,
    });
    assert.ok(server.listening, "the server still listens");
    assert.deepEqual(await get(port, plain.path), plain.expected);
  } finally {
    await wsport?.shutdown();
    server.closeAllConnections?.();
    await within(new Promise((resolve) => server.close(() => resolve(undefined))), "closing");
  }
}

/**
 * wsport on a bare `node:http` server the app made: `serve(site, { server })` beside
 * another library's WebSockets on the same server (a `ws` WebSocketServer with
 * `noServer`), and `createUpgradeHandler()` for an app that routes upgrades itself.
 */
import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { createServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { test } from "node:test";
import { WebSocketServer } from "ws";
import { createUpgradeHandler } from "../../src/adapters/node_upgrade_handler.ts";
import { serve } from "../../src/adapters/serve.ts";
import { certificate, opensslMissing } from "../helpers/certificate.ts";
import { Client, RawClient, rawRequest, upgradeRequest, within } from "../helpers/client.ts";
import { wsEcho } from "../helpers/echo_client.ts";
import { skipUnless } from "../helpers/required.ts";
import { Echo, runtime } from "../helpers/server.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { assertAttached, echoSite, get, listen, portOf } from "./attached.ts";

/** A server whose request handler answers every plain request itself. */
const appServer = () => createServer((request, response) => response.end(`app saw ${request.url}`));

test(`http.Server on ${runtime}: the app keeps plain requests, wsport serves /ws`, async () => {
  const server = appServer();
  await listen(server);
  await assertAttached(server, { path: "/ws", expected: [200, "app saw /ws"] });
});

test(`http.Server on ${runtime}: a ws WebSocketServer with noServer on /other keeps working beside wsport, and after its shutdown`, async () => {
  const server = appServer();
  const other = new WebSocketServer({ noServer: true });
  other.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(`other: ${data}`));
  });
  // The app's own listener takes its path only, leaving the rest to wsport's (it keeps
  // the sockets of paths nobody serves, to end them after the test).
  const strays: Socket[] = [];
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (request.url === "/elsewhere") strays.push(socket);
    if (request.url !== "/other") return;
    other.handleUpgrade(request, socket, head, (ws) => other.emit("connection", ws, request));
  });
  await listen(server);
  const port = portOf(server);
  const wsport = await serve(echoSite(), { server });
  try {
    const ours = await Client.open(`ws://127.0.0.1:${port}/ws`);
    const theirs = await Client.open(`ws://127.0.0.1:${port}/other`);
    ours.send("a");
    theirs.send("b");
    assert.equal(await ours.next(), "a");
    assert.equal(await theirs.next(), "other: b");

    // Another path is left to the other listener: wsport neither answers nor closes it.
    const stray = await RawClient.connect(port);
    stray.write(upgradeRequest("/elsewhere"));
    const answered = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve("left alone"), 300);
      stray.socket.once("data", () => {
        clearTimeout(timer);
        resolve("answered");
      });
    });
    assert.equal(answered, "left alone");
    stray.destroy();

    await within(wsport.shutdown(), "wsport shutting down");
    assert.equal((await within(ours.closed, "ours to close")).code, 1001);
    theirs.send("c");
    assert.equal(await theirs.next(), "other: c", "ws's connection outlives wsport");
    assert.deepEqual(await get(port, "/plain"), [200, "app saw /plain"]);
    await theirs.closeAndWait();
  } finally {
    await wsport.shutdown();
    for (const socket of strays) socket.destroy();
    other.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test(`http.Server on ${runtime}: alone on the server, wsport answers an upgrade to another path as the site does`, async () => {
  const server = appServer();
  await listen(server);
  const wsport = await serve(echoSite(), { server });
  try {
    const response = await rawRequest(portOf(server), upgradeRequest("/nowhere"));
    assert.equal(response.status, 404);
  } finally {
    await wsport.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test(`http.Server on ${runtime}: two sites attached, each serves its routes and the first answers other paths`, async () => {
  const server = appServer();
  await listen(server);
  const other = new WebSocketSite();
  other.addHandler("/other", Echo);
  const first = await serve(echoSite(), { server });
  const second = await serve(other, { server });
  try {
    for (const path of ["/ws", "/other"]) {
      const client = await Client.open(`ws://127.0.0.1:${portOf(server)}${path}`);
      client.send(path);
      assert.equal(await client.next(), path);
      await client.closeAndWait();
    }
    const response = await rawRequest(portOf(server), upgradeRequest("/nowhere"));
    assert.equal(response.status, 404);
  } finally {
    await first.shutdown();
    await second.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test(`createUpgradeHandler() on ${runtime}: the app routes upgrades, close() ends wsport's connections and refuses later ones with 503`, async () => {
  const server = appServer();
  const upgrades = createUpgradeHandler(echoSite());
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Uint8Array) => {
    if (upgrades.handles(request)) upgrades.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await listen(server);
  const port = portOf(server);
  try {
    assert.ok(!upgrades.handles({ url: "/other", rawHeaders: [] } as unknown as IncomingMessage));
    const client = await Client.open(`ws://127.0.0.1:${port}/ws?room=1`);
    client.send("hi");
    assert.equal(await client.next(), "hi");
    await within(upgrades.close(), "closing the handler");
    assert.equal((await within(client.closed, "the client to close")).code, 1001);
    const late = await rawRequest(port, upgradeRequest("/ws"));
    assert.equal(late.status, 503);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test(`https.Server on ${runtime}: wsport serves wss:// on an app's TLS server`, {
  skip: skipUnless("openssl", opensslMissing),
}, async () => {
  const { cert, key } = certificate();
  const server = createHttpsServer({ cert, key }, (_request, response) => response.end("tls"));
  await listen(server);
  const wsport = await serve(echoSite(), { server });
  try {
    const { caFile } = certificate();
    assert.deepEqual(await wsEcho(`wss://127.0.0.1:${portOf(server)}/ws`, { ca: caFile }), {
      echoes: ["hello"],
      code: 1000,
    });
  } finally {
    await wsport.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test(`http.Server on ${runtime}: an attached upgrade whose onUpgrade never settles is dropped at handshakeTimeoutMs`, async () => {
  const site = new WebSocketSite(undefined, { limits: { handshakeTimeoutMs: 300 } });
  site.addHandler("/ws", Echo, { onUpgrade: () => new Promise<never>(() => {}) });
  const server = appServer();
  await listen(server);
  const wsport = await serve(site, { server });
  const client = await RawClient.connect(portOf(server));
  try {
    client.write(upgradeRequest("/ws"));
    await within(client.ended, "wsport to drop the connection", 3_000);
  } finally {
    client.destroy();
    await wsport.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

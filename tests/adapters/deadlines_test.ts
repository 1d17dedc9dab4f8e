/**
 * Every socket has a deadline: refused upgrades and plain HTTP responses whose peer
 * neither reads nor closes release their descriptors, on every adapter this runtime
 * offers. Descriptors are counted in `/proc/self/fd` (Linux): the servers run in this
 * process.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { test } from "node:test";
import type { Limits } from "../../src/core/limits.ts";
import { files } from "../../src/files/files.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { within } from "../helpers/client.ts";
import { deferred, Echo, type Pair, pairs, withSite } from "../helpers/server.ts";

const onLinux = process.platform === "linux";

/** Waits `ms`: only where letting time pass is the point. */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How many descriptors this process holds on TCP connections accepted on `port` (not the
 * listening socket): the sockets in `/proc/self/fd` whose inode `/proc/net/tcp` lists
 * with that local port.
 */
function heldSockets(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match !== null) inodes.add(match[1]);
    } catch {
      // Closed since the directory was read.
    }
  }
  let held = 0;
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(table, "utf8").split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = parseInt(fields[1].split(":")[1], 16);
      const listening = fields[3] === "0A";
      if (localPort === port && !listening && inodes.has(fields[9])) held++;
    }
  }
  return held;
}

/** How many descriptors this process holds open on the file at `path`. */
function heldFiles(path: string): number {
  let held = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) held++;
    } catch {
      // Closed since the directory was read.
    }
  }
  return held;
}

/** Polls until `heldSockets(port)` is at most `most`, for at most `ms`; returns the last count. */
async function settleTo(port: number, most: number, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let held = heldSockets(port);
  while (held > most && performance.now() < end) {
    await delay(50);
    held = heldSockets(port);
  }
  return held;
}

/**
 * A client that keeps its side open: it sends `request`, and when the server ends the
 * connection it neither answers with its own FIN nor closes.
 */
function halfOpenClient(port: number, request: string): Promise<{ socket: Socket; head: string }> {
  return within(
    new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let received = "";
      socket.setEncoding("latin1");
      socket.on("data", (text: string) => {
        received += text;
        const end = received.indexOf("\r\n\r\n");
        if (end >= 0) resolve({ socket, head: received.slice(0, end) });
      });
      socket.once("error", reject);
      socket.once("connect", () => socket.write(request));
    }),
    "a half-open client's answer",
  );
}

/** A site with an echo at `/ws` and these limits. */
function siteWith(
  limits: Partial<Limits>,
  http?: (request: Request) => Promise<Response>,
): WebSocketSite {
  const site = new WebSocketSite(http, { limits });
  site.addHandler("/ws", Echo);
  return site;
}

const REFUSED = 300;
const NO_KEY = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** How each pair ends a refused upgrade whose peer keeps its side open. */
const refusedCase = (pair: Pair) =>
  pair.adapter === "deno"
    ? "Deno.serve keeps the connection alive, for its next request"
    : `${REFUSED} half-open peers hold no descriptor past closeTimeoutMs`;

for (const pair of pairs) {
  test(`refused upgrades on ${pair.name}: ${refusedCase(pair)}`, {
    skip: !onLinux && "counts descriptors in /proc/self/fd",
  }, async () => {
    const closeTimeoutMs = 300;
    await withSite(siteWith({ closeTimeoutMs }), pair, async (server) => {
      const clients: Socket[] = [];
      try {
        for (let i = 0; i < REFUSED; i += 50) {
          const batch = await Promise.all(
            Array.from({ length: 50 }, () => halfOpenClient(server.port, NO_KEY)),
          );
          for (const { socket, head } of batch) {
            clients.push(socket);
            assert.match(head, /^HTTP\/1\.1 400 /);
          }
        }
        if (pair.adapter === "deno") {
          // No Connection: close from Deno.serve; each socket waits for a next request,
          // until the peer closes or the server shuts down (see DIFFERENCES.md).
          await delay(3 * closeTimeoutMs);
          const held = heldSockets(server.port);
          assert.ok(held >= REFUSED, `${held} server sockets open, ${REFUSED} refused peers`);
          return;
        }
        // Each server side ends at once and is dropped closeTimeoutMs later at most.
        const held = await settleTo(server.port, 0, 10 * closeTimeoutMs + 2000);
        assert.equal(held, 0, `${held} server sockets still open`);
      } finally {
        for (const socket of clients) socket.destroy();
      }
    });
  });
}

const MiB = 1024 * 1024;

/** How each pair ends a file response whose peer never reads. */
const stalledCase = (pair: Pair) =>
  pair.native
    ? "the runtime's own server keeps socket and file while the peer is connected"
    : "socket and file are released writeTimeoutMs after the last progress";

for (const pair of pairs) {
  test(`a file response nobody reads on ${pair.name}: ${stalledCase(pair)}`, {
    skip: !onLinux && "counts descriptors in /proc/self/fd",
  }, async () => {
    const writeTimeoutMs = 300;
    const root = await realpath(await mkdtemp(join(tmpdir(), "wsport-deadlines-")));
    const path = join(root, "big.bin");
    // Far more than the socket buffers of both ends hold.
    await writeFile(path, new Uint8Array(64 * MiB));
    const site = siteWith({ writeTimeoutMs }, files(root));
    try {
      await withSite(site, pair, async (server) => {
        const client = connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true });
        try {
          client.pause();
          client.on("error", () => {});
          client.write("GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          // The response starts: the file is open.
          const opened = performance.now() + 5000;
          while (heldFiles(path) === 0 && performance.now() < opened) await delay(20);
          assert.ok(heldFiles(path) > 0, "the file is open while it is sent");
          if (pair.native) {
            await delay(5 * writeTimeoutMs);
            assert.equal(heldSockets(server.port), 1);
            return;
          }
          const held = await settleTo(server.port, 0, 10 * writeTimeoutMs + 2000);
          assert.equal(held, 0, "the stalled socket was dropped");
          const end = performance.now() + 2000;
          while (heldFiles(path) > 0 && performance.now() < end) await delay(20);
          assert.equal(heldFiles(path), 0, "the file was closed");
        } finally {
          client.destroy();
        }
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

for (const pair of pairs) {
  test(`a kept-alive connection on ${pair.name}: the next request head has handshakeTimeoutMs`, {
    skip: pair.native && "Deno.serve has no head timeout; Bun.serve drops at its idleTimeout",
  }, async () => {
    const handshakeTimeoutMs = 300;
    const site = siteWith({ handshakeTimeoutMs }, () => Promise.resolve(new Response("hi")));
    await withSite(site, pair, async (server) => {
      for (const next of ["", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"]) {
        const client = connect({ port: server.port, host: "127.0.0.1" });
        try {
          client.on("error", () => {});
          const closed = new Promise<string>((resolve) => {
            let received = "";
            client.setEncoding("latin1");
            client.on("data", (text: string) => {
              received += text;
              // The first response is in: start the next request, and stop there.
              if (received.endsWith("hi") && next !== "") client.write(next);
            });
            client.once("close", () => resolve(received));
          });
          client.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          // Node's own keepAliveTimeout (5 s) comes far later.
          const received = await within(closed, "the server to drop the connection", 3000);
          assert.match(received, /^HTTP\/1\.1 200 /, JSON.stringify(next));
        } finally {
          client.destroy();
        }
      }
    });
  });
}

for (const pair of pairs) {
  test(`a request body that stops arriving on ${pair.name}: dropped after handshakeTimeoutMs`, {
    skip: pair.native && "Deno.serve has no body timeout; Bun.serve drops at its idleTimeout",
  }, async () => {
    const handshakeTimeoutMs = 300;
    const read = deferred<string>();
    const site = siteWith({ handshakeTimeoutMs }, async (request) => {
      try {
        return new Response(await request.text());
      } catch (error) {
        read.resolve(String(error));
        return new Response(null, { status: 400 });
      }
    });
    await withSite(site, pair, async (server) => {
      const client = connect({ port: server.port, host: "127.0.0.1" });
      try {
        client.on("error", () => {});
        const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
        client.write("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n");
        // Some progress first: the deadline runs from the last bytes.
        for (let i = 0; i < 4; i++) {
          await delay(handshakeTimeoutMs / 2);
          client.write("0123456789");
        }
        assert.equal(client.destroyed, false, "progress keeps the request alive");
        await within(closed, "the server to drop the connection", 3000);
        // The handler's read of the body failed: it does not wait forever either.
        await within(read.promise, "the handler's body read to fail", 3000);
      } finally {
        client.destroy();
      }
    });
  });
}

for (const pair of pairs) {
  test(`an onUpgrade hook that never settles on ${pair.name}: dropped at handshakeTimeoutMs`, {
    skip: pair.native && "Deno.serve and Bun.serve wait for their handler (Bun: its idleTimeout)",
  }, async () => {
    const site = new WebSocketSite(undefined, { limits: { handshakeTimeoutMs: 300 } });
    site.addHandler("/ws", Echo, { onUpgrade: () => new Promise<never>(() => {}) });
    await withSite(site, pair, async (server) => {
      const client = connect({ port: server.port, host: "127.0.0.1" });
      try {
        client.on("error", () => {});
        let received = 0;
        client.on("data", (chunk: Uint8Array) => received += chunk.length);
        const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
        client.write(
          NO_KEY.replace("\r\n\r\n", "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
        );
        await within(closed, "the server to drop the connection", 3000);
        assert.equal(received, 0, "nothing was answered");
      } finally {
        client.destroy();
      }
    });
  });
}

/**
 * Hostile peers against the server's descriptors: refused and HTTP-answered upgrades
 * whose clients keep their side open, WebSockets left half-closed, silent and
 * slow-loris handshakes, and large responses nobody reads. The attack server (see
 * `README.md`) must release every socket and file handle within a bound set by its
 * limits while the attacker still holds on, keep its memory bounded, and serve a normal
 * client after.
 */
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Opcode } from "../../src/core/constants.ts";
import { upgradeRequest, within } from "../helpers/client.ts";
import { pairs } from "../helpers/server.ts";
import { ATTACK_LIMITS, mib } from "./attack_limits.ts";
import { bound, maskedFrame, underAttack } from "./harness.ts";

const { closeTimeoutMs, handshakeTimeoutMs, maxSendBufferBytes } = ATTACK_LIMITS;

/**
 * A raw socket, connected, that has written `request` (if any) and keeps its side open:
 * with `allowHalfOpen`, the server's FIN does not end it.
 */
function opened(port: number, request?: string | Uint8Array): Promise<Socket> {
  return within(
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.on("error", () => {});
        if (request !== undefined) socket.write(request);
        resolve(socket);
      });
    }),
    `connecting to port ${port}`,
  );
}

/**
 * A raw socket that sends `request` and keeps its side open, reading (or not, once the
 * answer has started); resolves when the answer starts or the server closes.
 */
async function holdOpen(port: number, request: string | Uint8Array, read = true) {
  const socket = await opened(port, request);
  return within(
    new Promise<Socket>((resolve) => {
      socket.once("data", () => {
        if (!read) socket.pause();
        resolve(socket);
      });
      socket.once("close", () => resolve(socket));
    }),
    "an answer to a held request",
  );
}

/** Opens `count` of them, a few at a time. */
async function holdMany(count: number, open: () => Promise<Socket>): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Math.min(50, count - i);
    sockets.push(...await Promise.all(Array.from({ length: batch }, open)));
  }
  return sockets;
}

const held = (sockets: Socket[], note: string) => ({
  release: () => sockets.forEach((socket) => socket.destroy()),
  note,
});

const head = (path: string, headers: Record<string, string> = {}) => {
  let text = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return text + "\r\n";
};
const UPGRADE = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13" };

/** A socket held open costs at most its buffers: 64 KiB each, for `count` sockets. */
const socketsBound = (count: number) =>
  bound(count * 64 * 1024, `${count} sockets × 64 KiB (${mib(count * 64 * 1024)})`);

/** Waits are bounded by the limits: a close or handshake timeout, with room to spare. */
const RELEASE_NOTE =
  `closeTimeoutMs ${closeTimeoutMs} ms, handshakeTimeoutMs ${handshakeTimeoutMs} ms`;

for (const pair of pairs.filter((pair) => !pair.native)) {
  test(`${pair.name}: 300 refused or HTTP-answered upgrades held open are released (${RELEASE_NOTE})`, async () => {
    const root = mkdtempSync(join(tmpdir(), "wsport-abuse-"));
    writeFileSync(join(root, "small.txt"), "small\n");
    try {
      await underAttack(pair, "refused upgrades held open", socketsBound(300), async (server) => {
        // 200 without a key (400), 100 to a path with no handler (answered as HTTP).
        const refused = await holdMany(200, () => holdOpen(server.port, head("/echo", UPGRADE)));
        const answered = await holdMany(
          100,
          () =>
            holdOpen(
              server.port,
              head("/small.txt", { ...UPGRADE, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" }),
            ),
        );
        return held([...refused, ...answered], "300 sockets held open by their clients");
      }, { root, releaseWhileHeld: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test(`${pair.name}: 300 WebSockets left half-closed are released (${RELEASE_NOTE})`, async () => {
    await underAttack(pair, "half-closed WebSockets", socketsBound(300), async (server) => {
      const clients = await holdMany(300, () => holdOpen(server.port, upgradeRequest("/echo")));
      // 200 send a Close frame and never close TCP; 100 end TCP with no Close frame
      // and keep reading.
      clients.slice(0, 200).forEach((client) =>
        client.write(maskedFrame(Opcode.Close, Uint8Array.of(0x03, 0xe8)))
      );
      clients.slice(200).forEach((client) => client.end());
      return held(clients, "200 closed with 1000 and held TCP, 100 sent FIN and held");
    }, { releaseWhileHeld: true });
  });

  const LARGE_FILE_BYTES = 32 * 1024 * 1024;
  const READERS = 10;
  /**
   * A response whose reader never reads may hold what waits in its socket (the file is
   * streamed, never read whole): at most `maxSendBufferBytes` each.
   */
  const STALLED_BOUND = bound(
    READERS * maxSendBufferBytes,
    `${READERS} readers × maxSendBufferBytes (${mib(READERS * maxSendBufferBytes)})`,
  );
  test(`${pair.name}: a large file response nobody reads is released, with its file handle`, async () => {
    const root = mkdtempSync(join(tmpdir(), "wsport-abuse-"));
    writeFileSync(join(root, "large.bin"), new Uint8Array(LARGE_FILE_BYTES));
    try {
      await underAttack(pair, "stalled file responses", STALLED_BOUND, async (server) => {
        // Half as plain GETs, half as upgrades the site answers as HTTP.
        const plain = await holdMany(
          READERS / 2,
          () => holdOpen(server.port, head("/large.bin"), false),
        );
        const upgrades = await holdMany(
          READERS / 2,
          () =>
            holdOpen(
              server.port,
              head("/large.bin", { ...UPGRADE, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" }),
              false,
            ),
        );
        return held(
          [...plain, ...upgrades],
          `${READERS} readers of ${mib(LARGE_FILE_BYTES)} that never read`,
        );
      }, { root, releaseWhileHeld: true, releaseWaitMs: 15_000 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

/**
 * Only on the Node adapter: Deno.serve and Bun.serve parse HTTP themselves and give no
 * hold on a socket before its request head is whole. Measured (see README.md): Deno.serve
 * keeps silent and slow-loris connections open for as long as their clients like; Bun.serve
 * drops them at its own idle timeout (10 s) at the earliest.
 */
for (const pair of pairs.filter((pair) => !pair.native)) {
  test(`${pair.name}: 200 silent connections and 100 slow-loris handshakes are dropped (handshakeTimeoutMs ${handshakeTimeoutMs} ms)`, async () => {
    await underAttack(
      pair,
      "silent and slow-loris handshakes",
      socketsBound(300),
      async (server) => {
        const silent = await holdMany(200, () => opened(server.port));
        const slow = await holdMany(
          100,
          () => opened(server.port, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        );
        // A header line every 200 ms, for at most 10 s: never a whole request head.
        let line = 0;
        const trickle = setInterval(() => {
          line++;
          for (const socket of slow) if (!socket.destroyed) socket.write(`X-Slow-${line}: x\r\n`);
          if (line >= 50) clearInterval(trickle);
        }, 200);
        return {
          release: () => {
            clearInterval(trickle);
            [...silent, ...slow].forEach((socket) => socket.destroy());
          },
          note: "200 silent, 100 sending a header line every 200 ms",
        };
      },
      { releaseWhileHeld: true },
    );
  });
}

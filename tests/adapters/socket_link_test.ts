/**
 * The raw-socket link over a socket in memory whose peer reads only when told: what it
 * counts as the send buffer, when it pauses reading, and what it hands the socket to keep.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { test } from "node:test";
import { SocketLink } from "../../src/adapters/socket_link.ts";
import type { Sweeper } from "../../src/adapters/sweeper.ts";
import type { CloseInfo } from "../../src/core/connection.ts";
import { type Limits, resolveLimits } from "../../src/core/limits.ts";
import { type HandlerClass, WebSocketHandler } from "../../src/site/handler.ts";
import { siteInternals } from "../../src/site/internals.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { clientFrame, decodeClose, join, parseFrames } from "../helpers/frames.ts";
import { Echo } from "../helpers/server.ts";

const KiB = 1024;

/**
 * A socket whose peer does not read: every write stays in `writableLength` until
 * {@linkcode StalledSocket.drain}, as a real socket's does once the kernel buffers are full.
 */
class StalledSocket extends EventEmitter {
  readonly writes: Uint8Array[] = [];
  writableLength = 0;
  paused = false;
  destroyed = false;

  setNoDelay(): void {}
  cork(): void {}
  uncork(): void {}
  write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    this.writableLength += chunk.byteLength;
    return this.writableLength < 16 * KiB;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  /** The peer reads everything. */
  drain(): void {
    this.writableLength = 0;
    this.emit("drain");
  }
}

const noSweeper = { add() {}, delete() {} } as unknown as Sweeper;

/** A link over a stalled socket with a session of `Base` (a silent handler) open on it. */
function open(limits: Partial<Limits> = {}, Base: HandlerClass = WebSocketHandler) {
  const socket = new StalledSocket();
  const lost: CloseInfo[] = [];
  class Recorded extends Base {
    override connectionLost(info: CloseInfo): void {
      lost.push(info);
    }
  }
  const errors: unknown[] = [];
  const site = new WebSocketSite(undefined, { limits, onError: (error) => errors.push(error) });
  site.addHandler("/ws", Recorded);
  const internals = siteInternals(site);
  const route = internals.routes.get("/ws")!;
  const link = new SocketLink(socket as unknown as Socket, resolveLimits(limits), noSweeper);
  const session = internals.open({
    link,
    request: new Request("http://localhost/ws"),
    decision: {
      kind: "accept",
      route,
      acceptance: { key: "", protocol: "", extensions: "" },
      data: undefined,
    },
    remoteAddress: undefined,
  });
  link.attach(session, new Uint8Array(0));
  return { socket, link, session, lost, errors };
}

test("SocketLink copies output out of the shared arena once the socket holds unsent bytes", () => {
  const { socket, link } = open();
  socket.emit("data", clientFrame(0x9, ""));
  assert.equal(socket.writes.length, 1);
  // The first pong went out as a view (the socket might have sent it at once): since it
  // did not, the link counts the whole arena it pins.
  const first = socket.writes[0];
  assert.equal(first.byteLength, 2);
  assert.ok(link.bufferedAmount >= first.buffer.byteLength, `${link.bufferedAmount}`);
  socket.emit("data", clientFrame(0x9, ""));
  const second = socket.writes[1];
  assert.equal(second.byteLength, 2);
  assert.equal(second.buffer.byteLength, 2, "queued behind unsent bytes: a copy");
  socket.drain();
  assert.equal(link.bufferedAmount, 0);
});

test("SocketLink pauses reading from a peer that sends pings and never reads", () => {
  const { socket, link } = open();
  const sendPauseBytes = resolveLimits().sendPauseBytes;
  let pings = 0;
  // One ping per read, so each pong is a write of its own: 2 bytes, plus what the socket
  // holds to queue it.
  while (!socket.paused && pings < 10_000) {
    socket.emit("data", clientFrame(0x9, ""));
    pings++;
  }
  assert.equal(socket.paused, true, `still reading after ${pings} pings`);
  assert.ok(pings < 2100, `paused after ${pings} pings`);
  assert.ok(link.bufferedAmount <= sendPauseBytes + KiB, `${link.bufferedAmount}`);
  assert.ok(socket.writableLength < 5 * KiB, "the bytes alone are far below the mark");
  socket.drain();
  assert.equal(socket.paused, false, "reading resumes once the peer has read");
});

test("SocketLink resumes reading on its tick when the socket sent all without a drain", () => {
  const { socket, link } = open({ sendPauseBytes: 64 * KiB });
  for (let i = 0; i < 100_000 && !socket.paused; i++) socket.emit("data", clientFrame(0x9, ""));
  link.tick(performance.now());
  assert.equal(socket.paused, true, "nothing sent yet");
  // Too few bytes were queued for the socket to announce a drain.
  socket.writableLength = 0;
  link.tick(performance.now());
  assert.equal(socket.paused, false);
});

test("SocketLink fails with 1008 when replies to pings pass maxSendBufferBytes", () => {
  const { socket, lost } = open({ maxSendBufferBytes: 8 * KiB, sendPauseBytes: 4 * KiB });
  const ping = clientFrame(0x9, new Uint8Array(125));
  // One read of 100 pings: 100 pongs of 127 bytes, 12.7 KiB, from a single read.
  socket.emit("data", join(...Array.from({ length: 100 }, () => ping)));
  assert.equal(socket.destroyed, true);
  assert.deepEqual(lost, [{ code: 1008, reason: "Send buffer overflow", wasClean: false }]);
  const frames = parseFrames([join(...socket.writes)], "client");
  assert.equal(frames.at(-1)!.opcode, 0x8);
  assert.deepEqual(decodeClose(frames.at(-1)!.payload), {
    code: 1008,
    reason: "Send buffer overflow",
  });
});

test("SocketLink counts a buffer that queued chunks share once", () => {
  const { socket, link } = open({}, Echo);
  // One read of eight 20 KiB messages: their echoes are eight headers in the shared arena
  // and eight payloads that are views of the read, queued in one write.
  const read = join(...Array.from({ length: 8 }, () => clientFrame(0x2, new Uint8Array(20 * KiB))));
  socket.emit("data", read);
  assert.equal(socket.writes.length, 16);
  const held = link.bufferedAmount - socket.writableLength;
  // The arena (64 KiB) and the read's headers and masks, plus 512 bytes per queued write.
  assert.ok(held <= 64 * KiB + 16 * 512 + 8 * 6, `${held} bytes held besides the bytes`);
  assert.ok(held >= 64 * KiB - 8 * 4, `${held}: the arena the headers pin counts`);
});

test("SocketLink fails only its connection, with 1011, when wsport throws on the peer's bytes", () => {
  const { socket, session, lost, errors } = open();
  const fault = new Error("a fault inside wsport");
  // Stands for a bug anywhere between the socket and the handler (not the handler's own
  // error, which the session closes with 1011 by itself).
  session.receive = () => {
    throw fault;
  };
  assert.doesNotThrow(() => socket.emit("data", clientFrame(0x1, "hello")));
  assert.equal(socket.destroyed, true);
  assert.deepEqual(errors, [fault]);
  assert.deepEqual(lost, [{ code: 1011, reason: "Internal error", wasClean: false }]);
  const frames = parseFrames([join(...socket.writes)], "client");
  assert.deepEqual(decodeClose(frames.at(-1)!.payload), { code: 1011, reason: "Internal error" });
});

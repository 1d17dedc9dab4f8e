#!/usr/bin/env node
/**
 * The load generator: raw `node:net` clients with their own handshake and pre-built
 * masked frames, run as a child of `run.mjs` (under Node or Bun) and pinned to its own
 * core. It never frames through wsport.
 *
 *     node bench/load.mjs '{"kind":"pipeline","port":8080,...}'
 *
 * It connects, prints `{"ready":...}`, then answers each `measure <ms>` line on stdin
 * with one JSON line of counts for that window (the load keeps running between
 * windows), and exits on `stop` or when stdin closes. Its own CPU use
 * (`process.cpuUsage`) is in every answer, so a saturated generator shows.
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import { FrameCounter } from "./frame_counter.mjs";
import { closeFrame, maskedFrame, repeatFrame } from "./masked_frame.mjs";

/**
 * @typedef {object} LoadConfig
 * @property {"pipeline" | "pingpong" | "idle" | "handshake" | "broadcast"} kind
 * @property {number} port
 * @property {string} path The WebSocket path ("/echo", "/broadcast" or "/chat").
 * @property {boolean} websocket False for the plain TCP echo: no handshake.
 * @property {boolean} [deflate] Whether to offer permessage-deflate (RFC 7692), require
 *   the server to accept it and every message it sends to be compressed. The generator
 *   itself sends uncompressed, as §6 allows.
 * @property {number} connections
 * @property {number} inFlight Messages outstanding per connection (broadcasts, for "broadcast").
 * @property {number} opcode 1 text, 2 binary.
 * @property {number} payloadBytes The payload length sent and expected back (-1: any, for
 *   compressed replies).
 * @property {string[]} [messages] For "broadcast": the texts to send, in turn, instead of
 *   one payload of `payloadBytes` zero bytes.
 * @property {number} concurrency Connections opened at once.
 */

/** @type {LoadConfig} */
const config = JSON.parse(process.argv[2]);
const HANDSHAKE_TIMEOUT_MS = 10_000;
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = createHash("sha1").update(KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
  .digest("base64");
const REQUEST = Buffer.from(
  `GET ${config.path} HTTP/1.1\r\nHost: 127.0.0.1:${config.port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
    (config.deflate
      ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
      : "") +
    "\r\n",
);
/** The 101's extension header when the server accepted permessage-deflate. */
const ACCEPTED_DEFLATE = /^sec-websocket-extensions:[ \t]*permessage-deflate\b/im;
const CLOSE = Buffer.from(closeFrame());

/**
 * Counts shared by every kind; each window reports their change. `bytes` counts payload
 * bytes of complete frames, `wireBytes` (broadcast only) everything read off the sockets.
 */
const totals = { frames: 0, bytes: 0, errors: 0, handshakes: 0, wireBytes: 0 };
/** Round trips (ms) recorded while a ping-pong window is open. */
let samples = [];
let sampling = false;
let stopping = false;

/**
 * Opens one connection and completes the opening handshake.
 * @returns {Promise<{ socket: import("node:net").Socket, rest: Buffer }>} The socket,
 *   and any bytes that came after the 101 response.
 */
function open() {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: config.port, noDelay: true });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error("handshake timed out")), HANDSHAKE_TIMEOUT_MS);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once("error", fail);
    socket.once("close", () => fail(new Error("closed during the handshake")));
    const done = (rest) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on("error", () => totals.errors++);
      resolve({ socket, rest });
    };
    socket.once("connect", () => {
      if (!config.websocket) return done(Buffer.alloc(0));
      socket.write(REQUEST);
    });
    socket.on("data", (chunk) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = received.toString("latin1", 0, end);
      if (!head.startsWith("HTTP/1.1 101") || !head.includes(ACCEPT)) {
        return fail(new Error(`handshake refused: ${head.split("\r\n")[0]}`));
      }
      if (config.deflate && !ACCEPTED_DEFLATE.test(head)) {
        return fail(new Error("the server did not accept permessage-deflate"));
      }
      done(received.subarray(end + 4));
    });
  });
}

/** Opens `count` connections, at most `config.concurrency` at a time. */
async function openMany(count) {
  const sockets = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      sockets.push(await open());
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, config.concurrency) }, worker));
  return sockets;
}

/** Echo load: every connection keeps `inFlight` messages outstanding. */
async function pipeline() {
  const payload = new Uint8Array(config.payloadBytes).fill(0x61);
  const frame = Buffer.from(maskedFrame(config.opcode, payload));
  // Small frames go out k at a time as one write; large ones one write each.
  const batch = frame.length * config.inFlight <= 1 << 20
    ? Buffer.from(repeatFrame(frame, config.inFlight))
    : undefined;
  for (const { socket, rest } of await openMany(config.connections)) {
    const counter = new FrameCounter(config.opcode, config.payloadBytes);
    const send = (count) => {
      if (batch !== undefined) socket.write(batch.subarray(0, count * frame.length));
      else for (let i = 0; i < count; i++) socket.write(frame);
    };
    const onData = (chunk) => {
      const before = counter.bytes;
      const done = counter.push(chunk);
      totals.frames += done;
      totals.bytes += counter.bytes - before;
      if (counter.errors > 0) countErrors(counter);
      if (done > 0 && !stopping) send(done);
    };
    socket.on("data", onData);
    if (rest.length > 0) onData(rest);
    send(config.inFlight);
  }
}

/** One connection, one message at a time: the round-trip time of each. */
async function pingpong() {
  const [{ socket }] = await openMany(1);
  const frame = Buffer.from(maskedFrame(config.opcode, new Uint8Array(config.payloadBytes)));
  const counter = new FrameCounter(config.opcode, config.payloadBytes);
  let sentAt = 0;
  const send = () => {
    sentAt = performance.now();
    socket.write(frame);
  };
  socket.on("data", (chunk) => {
    const done = counter.push(chunk);
    if (counter.errors > 0) countErrors(counter);
    if (done === 0) return;
    if (sampling) samples.push(performance.now() - sentAt);
    totals.frames += done;
    totals.bytes += done * config.payloadBytes;
    if (!stopping) send();
  });
  send();
}

/** Connections that complete the handshake and then stay silent. */
async function idle() {
  const opened = await openMany(config.connections);
  totals.handshakes = opened.length;
}

/** New connection, handshake, Close, repeated by `concurrency` clients at once. */
function handshakes() {
  const client = async () => {
    while (!stopping) {
      try {
        const { socket } = await open();
        totals.handshakes++;
        await new Promise((resolve) => {
          socket.once("close", resolve);
          if (config.websocket) socket.write(CLOSE);
          socket.end();
        });
      } catch {
        totals.errors++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  for (let i = 0; i < config.concurrency; i++) client();
}

/**
 * Broadcast fan-out: the first connection sends a message, the server writes it to every
 * connection. At most `inFlight` broadcasts are outstanding, counted over all receivers.
 * The messages are `config.messages` in turn, or one payload of `payloadBytes`.
 */
async function broadcast() {
  const sockets = await openMany(config.connections);
  const count = sockets.length;
  const payloads = config.messages?.map((text) => Buffer.from(text)) ??
    [new Uint8Array(config.payloadBytes)];
  const frames = payloads.map((payload) => maskedFrame(config.opcode, payload));
  // The cycle of messages and `inFlight` more, so `room` messages from any point of the
  // cycle go out as one slice of it.
  const sequence = Array.from(
    { length: frames.length + config.inFlight },
    (_, i) => frames[i % frames.length],
  );
  const batch = Buffer.concat(sequence);
  const offsets = [0];
  for (const frame of sequence) offsets.push(offsets[offsets.length - 1] + frame.length);
  const control = sockets[0].socket;
  let sent = 0;
  const pump = () => {
    if (stopping) return;
    const outstanding = Math.ceil((sent * count - totals.frames) / count);
    const room = config.inFlight - outstanding;
    if (room <= 0) return;
    const first = sent % frames.length;
    control.write(batch.subarray(offsets[first], offsets[first + room]));
    sent += room;
  };
  for (const { socket, rest } of sockets) {
    const counter = new FrameCounter(config.opcode, config.payloadBytes, config.deflate);
    const onData = (chunk) => {
      totals.wireBytes += chunk.length;
      const before = counter.bytes;
      const done = counter.push(chunk);
      if (counter.errors > 0) countErrors(counter);
      if (done === 0) return;
      totals.frames += done;
      totals.bytes += counter.bytes - before;
      pump();
    };
    socket.on("data", onData);
    if (rest.length > 0) onData(rest);
  }
  pump();
}

/** Moves a counter's errors into the totals. */
function countErrors(counter) {
  totals.errors += counter.errors;
  counter.errors = 0;
}

/** Counts over one window of `ms` milliseconds, with this process's CPU use. */
async function measure(ms) {
  const before = { ...totals };
  const cpu = process.cpuUsage();
  const start = performance.now();
  samples = [];
  sampling = true;
  await new Promise((resolve) => setTimeout(resolve, ms));
  sampling = false;
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const result = { wallMs, cpuPercent: (used.user + used.system) / 10 / wallMs };
  for (const key of Object.keys(totals)) result[key] = totals[key] - before[key];
  if (samples.length > 0) {
    const sorted = Float64Array.from(samples).sort();
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000;
    result.p50Us = at(0.5);
    result.p99Us = at(0.99);
    result.samples = sorted.length;
  }
  return result;
}

const kinds = { pipeline, pingpong, idle, handshake: handshakes, broadcast };
const ready = Promise.resolve().then(() => kinds[config.kind]()).then(
  () => console.log(JSON.stringify({ ready: true, handshakes: totals.handshakes })),
  (error) => {
    console.log(JSON.stringify({ error: String(error?.message ?? error) }));
    process.exit(1);
  },
);
const lines = createInterface({ input: process.stdin });
lines.on("close", () => process.exit(0));
lines.on("line", async (line) => {
  const [command, argument] = line.trim().split(" ");
  await ready;
  if (command === "measure") console.log(JSON.stringify(await measure(Number(argument))));
  else if (command === "stop") {
    stopping = true;
    process.exit(0);
  }
});

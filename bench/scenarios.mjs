/**
 * The scenarios the bench runs, each with the load it applies and the numbers it reports.
 * @module
 */

/**
 * One number a scenario reports, read from a measured window.
 * @typedef {object} Metric
 * @property {string} key Column key.
 * @property {string} label Column heading.
 * @property {"higher" | "lower"} better Which way is better (ratios are always "times
 *   better": wsport ÷ peer when higher is better, peer ÷ wsport when lower is).
 * @property {(window: object) => number} value
 * @property {"count" | "integer" | "decimal"} format
 * @property {boolean} [judged] False for a number shown beside another and given no
 *   target (default true).
 */

/**
 * @typedef {object} Scenario
 * @property {string} id What `--scenario` takes.
 * @property {string} title
 * @property {"pipeline" | "pingpong" | "idle" | "handshake" | "broadcast"} kind
 * @property {string} path
 * @property {number} opcode
 * @property {number} payloadBytes Sent and expected back; -1 for replies of any length.
 * @property {string[]} [messages] For "broadcast": texts sent in turn instead of a payload.
 * @property {boolean} [deflate] Whether the generator offers permessage-deflate and
 *   requires every message back compressed.
 * @property {boolean} [optIn] Whether it runs only on servers that list it in their
 *   `scenarios` (default: on every server that does not list others).
 * @property {number} connections
 * @property {number} smokeConnections Connections in a smoke run.
 * @property {number} inFlight
 * @property {number} concurrency Connections opened (or handshaking) at once.
 * @property {boolean} split Whether the connections may be split over several generators.
 * @property {boolean} tcp Whether it means anything for the plain TCP echo.
 * @property {Metric[]} metrics
 * @property {Cost} [cost] The server's CPU time per unit of work (not for scenario d).
 */

/**
 * The server's CPU time per unit of work: less sensitive than a rate to other load on the
 * machine, since time the server does not get does not count.
 * @typedef {object} Cost
 * @property {string} label Column heading.
 * @property {(window: object) => number} units Units of work done in a window.
 */

/** Words chat messages are made of: a small vocabulary, so words repeat as in a real room. */
const WORDS = (
  "the a to and of in on for is it at we I you this that with can be my your have are " +
  "not just now today tomorrow morning lunch meeting standup review deploy build test fix " +
  "bug branch release staging prod server client team doc plan ticket issue PR merge " +
  "green red slow fast back out soon later done ready please thanks sorry ok yes no " +
  "anyone someone everyone here there again still already maybe really quick small big " +
  "coffee noodles pizza room floor call link notes slides design data cache queue log " +
  "error timeout retry rollback config flag dashboard alert metric latency CPU memory"
).split(" ");

/**
 * `count` JSON chat messages of 140 to 150 bytes with the same keys (where a compressor's
 * context takeover pays) and text from a small vocabulary, made from a fixed seed.
 * Enough of them that one does not repeat within a 32 KiB window: a cycle of a few would
 * make every message after the first round a single back-reference.
 */
function chatMessages(count) {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const messages = [];
  let sentAt = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    sentAt += 200 + Math.floor(random() * 5000);
    const user = `user-${1 + Math.floor(random() * 100)}`;
    const head = JSON.stringify({ type: "message", room: "lobby", user, sentAt, text: "" });
    const words = [];
    let length = head.length;
    while (length < 140) {
      const word = WORDS[Math.floor(random() * WORDS.length)];
      words.push(word);
      length += word.length + 1;
    }
    let text = words.join(" ") + (random() < 0.3 ? "?" : ".");
    text = text[0].toUpperCase() + text.slice(1);
    messages.push(JSON.stringify({ type: "message", room: "lobby", user, sentAt, text }));
  }
  return messages;
}

const perSecond = (count) => (window) => count(window) / window.wallMs * 1000;
const megabytesPerSecond = (window) => window.bytes / window.wallMs / 1000;

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    id: "a",
    cost: { label: "(a) µs/msg", units: (window) => window.frames },
    title: "32 B text, 50 connections × 64 in flight",
    kind: "pipeline",
    path: "/echo",
    opcode: 1,
    payloadBytes: 32,
    connections: 50,
    smokeConnections: 50,
    inFlight: 64,
    concurrency: 50,
    split: true,
    tcp: true,
    metrics: [{
      key: "a",
      label: "(a) msg/s",
      better: "higher",
      value: perSecond((window) => window.frames),
      format: "count",
    }],
  },
  {
    id: "b",
    cost: { label: "(b) µs/round trip", units: (window) => window.frames },
    title: "32 B text ping-pong on one connection",
    kind: "pingpong",
    path: "/echo",
    opcode: 1,
    payloadBytes: 32,
    connections: 1,
    smokeConnections: 1,
    inFlight: 1,
    concurrency: 1,
    split: false,
    tcp: true,
    metrics: [
      {
        key: "b50",
        label: "(b) p50 µs",
        better: "lower",
        value: (window) => window.p50Us,
        format: "integer",
      },
      {
        key: "b99",
        label: "(b) p99 µs",
        better: "lower",
        value: (window) => window.p99Us,
        format: "integer",
      },
    ],
  },
  {
    id: "c64k",
    cost: { label: "(c) 64 KiB µs/MB", units: (window) => window.bytes / 1e6 },
    title: "64 KiB binary, 8 connections × 8 in flight",
    kind: "pipeline",
    path: "/echo",
    opcode: 2,
    payloadBytes: 64 * 1024,
    connections: 8,
    smokeConnections: 8,
    inFlight: 8,
    concurrency: 8,
    split: true,
    tcp: true,
    metrics: [{
      key: "c64k",
      label: "(c) 64 KiB MB/s",
      better: "higher",
      value: megabytesPerSecond,
      format: "integer",
    }],
  },
  {
    id: "c1m",
    cost: { label: "(c) 1 MiB µs/MB", units: (window) => window.bytes / 1e6 },
    title: "1 MiB binary, 4 connections × 2 in flight",
    kind: "pipeline",
    path: "/echo",
    opcode: 2,
    payloadBytes: 1024 * 1024,
    connections: 4,
    smokeConnections: 4,
    inFlight: 2,
    concurrency: 4,
    split: true,
    tcp: true,
    metrics: [{
      key: "c1m",
      label: "(c) 1 MiB MB/s",
      better: "higher",
      value: megabytesPerSecond,
      format: "integer",
    }],
  },
  {
    id: "d",
    title: "5,000 idle connections: server RSS and heap growth per connection",
    kind: "idle",
    path: "/echo",
    opcode: 1,
    payloadBytes: 0,
    connections: 5000,
    smokeConnections: 200,
    inFlight: 0,
    concurrency: 100,
    split: true,
    tcp: true,
    metrics: [{
      key: "d",
      label: "(d) KiB/conn",
      better: "lower",
      value: (window) => window.rssPerConnectionKiB,
      format: "decimal",
    }, {
      key: "dheap",
      label: "(d) heap B/conn",
      better: "lower",
      value: (window) => window.heapPerConnectionBytes,
      format: "integer",
      judged: false,
    }],
  },
  {
    id: "e",
    cost: { label: "(e) µs/handshake", units: (window) => window.handshakes },
    title: "handshakes: connect, upgrade, Close; 32 clients at once",
    kind: "handshake",
    path: "/echo",
    opcode: 1,
    payloadBytes: 0,
    connections: 0,
    smokeConnections: 0,
    inFlight: 0,
    concurrency: 32,
    split: true,
    tcp: false,
    metrics: [{
      key: "e",
      label: "(e) handshakes/s",
      better: "higher",
      value: perSecond((window) => window.handshakes),
      format: "count",
    }],
  },
  {
    id: "f",
    cost: { label: "(f) µs/msg delivered", units: (window) => window.frames },
    title: "1 KiB binary broadcast to 1,000 connections, 32 broadcasts in flight",
    kind: "broadcast",
    path: "/broadcast",
    opcode: 2,
    payloadBytes: 1024,
    connections: 1000,
    smokeConnections: 50,
    inFlight: 32,
    concurrency: 100,
    split: false,
    tcp: false,
    metrics: [{
      key: "f",
      label: "(f) msg/s delivered",
      better: "higher",
      value: perSecond((window) => window.frames),
      format: "count",
    }],
  },
  {
    id: "g",
    cost: { label: "(g) µs/msg delivered", units: (window) => window.frames },
    title: "JSON chat with permessage-deflate: 256 messages of 140-150 B in turn, sent " +
      "uncompressed, published compressed to 100 connections, 32 in flight",
    kind: "broadcast",
    path: "/chat",
    opcode: 1,
    payloadBytes: -1,
    messages: chatMessages(256),
    deflate: true,
    optIn: true,
    connections: 100,
    smokeConnections: 20,
    inFlight: 32,
    concurrency: 100,
    split: false,
    tcp: false,
    metrics: [
      {
        key: "g",
        label: "(g) msg/s delivered",
        better: "higher",
        value: perSecond((window) => window.frames),
        format: "count",
      },
      {
        key: "gwire",
        label: "(g) wire B/msg",
        better: "lower",
        value: (window) => window.wireBytes / window.frames,
        format: "decimal",
      },
    ],
  },
];

/** Every metric, in table order. */
export const METRICS = SCENARIOS.flatMap((scenario) => scenario.metrics);

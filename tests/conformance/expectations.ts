/**
 * Where a runtime's own WebSocket server cannot do what RFC 6455 asks, and what it does
 * instead: the documented differences of the native adapters, and the verdict of one
 * case against them.
 * @module
 */

/** A case whose outcome on a native adapter differs from RFC 6455's, and why. */
export interface Difference {
  /** The server pair: `deno/deno-adapter` or `bun/bun-adapter`. */
  readonly pair: string;
  /** The case id, as in `cases.ts`. */
  readonly id: string;
  /** What the runtime does instead, exactly as the case describes it. */
  readonly observed: string;
  /**
   * For an outcome that varies from run to run (how many pongs a runtime folds into
   * one), what every run's description matches; `observed` is then one such run's. Such
   * a case passes on a run where the outcome is the RFC's.
   */
  readonly matches?: RegExp;
  /** Why: what in the runtime makes it so. */
  readonly why: string;
}

const DENO = "deno/deno-adapter";
const BUN = "bun/bun-adapter";
const WORKERS = "workerd/workers-adapter";

/** Several cases that differ the same way, for the same reason. */
const alike = (pair: string, ids: string[], observed: string, why: string): Difference[] =>
  ids.map((id) => ({ pair, id, observed, why }));

const DENO_DROPS = "Deno's WebSocket (fastwebsockets) closes the TCP connection on a protocol " +
  "error without sending a Close frame, before JavaScript hears of it (onerror fires with " +
  "readyState CLOSED): the peer sees 1006, not 1002 or 1007, and connectionLost gets 1006.";

const DENO_VIOLATIONS = [
  "1.3.1",
  "2.5",
  "3.1",
  "3.3",
  "3.4",
  "3.5",
  "3.6",
  "4.1.1",
  "4.1.2",
  "4.1.3",
  "4.1.4",
  "4.1.5",
  "4.2.1",
  "4.2.2",
  "4.2.3",
  "4.2.4",
  "4.2.5",
  "5.1",
  "5.2",
  "5.9",
  "5.10",
  "5.12",
  "5.13",
  "5.14",
  ...Array.from({ length: 16 }, (_, i) => `6.4.${i + 1}`),
  "6.5.1",
  "7.3.2",
  "7.5.1",
];

const DENO_UNMASKED = "Deno's WebSocket server does not require client frames to be masked " +
  "(RFC 6455 §5.1): it takes an unmasked frame as if it were masked.";

const BUN_WHOLE_UTF8 = "uWebSockets checks a text message's UTF-8 once the whole message has " +
  "arrived, not as each piece comes: the 1007 comes only when the message ends.";

const WORKERS_NO_UTF8 = "workerd does not validate UTF-8 in text messages: it decodes them with " +
  "replacement characters and delivers them (and the echo) as text, so no 1007 comes and " +
  "the connection stays open; wsport gets a JavaScript string and cannot tell.";

const WORKERS_CLOSE_CODES =
  "workerd answers the peer's Close itself (web_socket_auto_reply_to_close, " +
  "the default since 2026-04-07) by echoing its code, whatever it is, and hands the code to the " +
  "Worker afterwards: wsport cannot fail the connection with 1002 first.";

const WORKERS_CONTROL = "workerd accepts control frames over 125 bytes (RFC 6455 §5.5) and " +
  "answers them as valid ones.";

const WORKERS_UNMASKED = "workerd does not require client frames to be masked (RFC 6455 §5.1): " +
  "it takes an unmasked frame as if it were masked.";

const WORKERS_PONGS = "workerd answers pings itself, and when pings arrive faster than it " +
  "sends pongs it answers only the latest waiting (RFC 6455 §5.5.3 allows it): fewer pongs, " +
  "the later ones with a later ping's payload. How many varies from run to run.";

/** Fewer pongs than pings, in any grouping (the texts before them as sent). */
const WORKERS_FOLDED_PONGS =
  /^(text 10 B ×80, )?(pong [36] B( \(other bytes\))?( ×\d+)?, )+Close 1000, TCP closed$/;

/** The documented differences. A difference that stops happening fails the suite too. */
export const DIFFERENCES: readonly Difference[] = [
  {
    pair: DENO,
    id: "0.5",
    observed: "HTTP 400",
    why: "Deno.serve answers 400 itself to a non-GET request carrying Upgrade: websocket, " +
      "before the handler runs, so wsport cannot send its 405.",
  },
  ...alike(DENO, DENO_VIOLATIONS, "TCP closed", DENO_DROPS),
  ...alike(DENO, ["3.2", "4.1.6"], "text 5 B, TCP closed", DENO_DROPS),
  { pair: DENO, id: "5.11", observed: "text 8 B, TCP closed", why: DENO_DROPS },
  {
    pair: DENO,
    id: "6.5.2",
    observed: "text 10 B, TCP left open",
    why: "Deno delivers a fragmented text message whose last fragment holds only the start " +
      "of a character without that partial character, instead of failing with 1007: the " +
      "echo is the 10 bytes before it, and the connection stays open.",
  },
  {
    pair: DENO,
    id: "6.6.1",
    observed: "TCP closed; the server objected before the message ended",
    why: "Deno checks UTF-8 fragment by fragment, so it objects at once; but, as on every " +
      "violation, it drops TCP without a Close frame.",
  },
  {
    pair: DENO,
    id: "6.6.2",
    observed: "TCP closed; nothing came until the message ended",
    why: "Deno reads a frame whole before checking its UTF-8, so an invalid start is found " +
      "only once the frame ends; and it drops TCP without a Close frame.",
  },
  {
    pair: DENO,
    id: "7.3.6",
    observed: "Close 1000, TCP closed",
    why: "Deno accepts a Close frame with a 126-byte payload (control frames may carry at " +
      "most 125, RFC 6455 §5.5) and answers it like a valid one.",
  },
  {
    pair: DENO,
    id: "7.7.12",
    observed: "Close 1002, TCP closed",
    why: "Deno's list of valid close codes ends at 1013: it answers the registered code " +
      "1014 (Bad Gateway) with 1002.",
  },
  { pair: DENO, id: "8.1", observed: "text 5 B, TCP left open", why: DENO_UNMASKED },
  { pair: DENO, id: "8.2", observed: "pong 5 B, TCP left open", why: DENO_UNMASKED },
  { pair: DENO, id: "8.3", observed: "Close 1000, TCP closed", why: DENO_UNMASKED },
  {
    pair: BUN,
    id: "1.3.1",
    observed: "Close 1009, TCP closed",
    why: "uWebSockets compares a 64-bit length with maxPayloadLength before it checks the " +
      "reserved most significant bit, so it fails with 1009 (too big), not 1002.",
  },
  ...alike(
    BUN,
    ["6.6.1", "6.6.2"],
    "Close 1007, TCP closed; nothing came until the message ended",
    BUN_WHOLE_UTF8,
  ),
  {
    pair: WORKERS,
    id: "1.3.1",
    observed: "Close 1009, TCP closed",
    why: "workerd compares a 64-bit length with its message size limit before it checks the " +
      "reserved most significant bit, so it fails with 1009 (too big), not 1002.",
  },
  { pair: WORKERS, id: "2.5", observed: "pong 126 B, TCP left open", why: WORKERS_CONTROL },
  { pair: WORKERS, id: "7.3.6", observed: "Close 1000, TCP closed", why: WORKERS_CONTROL },
  {
    pair: WORKERS,
    id: "7.5.1",
    observed: "Close 1000, TCP closed",
    why: "workerd does not check that a Close reason is UTF-8, and answers the Close itself.",
  },
  { pair: WORKERS, id: "6.4.1", observed: "text 7 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.2", observed: "text 10 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.3", observed: "text 13 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.4", observed: "text 6 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.5", observed: "text 10 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.6", observed: "text 10 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.7", observed: "text 18 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.8", observed: "text 12 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.9", observed: "text 12 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.10", observed: "text 4 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.11", observed: "text 4 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.12", observed: "text 11 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.13", observed: "text 4 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.14", observed: "text 4 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.15", observed: "text 5 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.4.16", observed: "text 5 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.5.1", observed: "text 19 B, TCP left open", why: WORKERS_NO_UTF8 },
  { pair: WORKERS, id: "6.5.2", observed: "text 13 B, TCP left open", why: WORKERS_NO_UTF8 },
  {
    pair: WORKERS,
    id: "6.6.1",
    observed: "text 29 B, TCP left open; nothing came until the message ended",
    why: WORKERS_NO_UTF8,
  },
  {
    pair: WORKERS,
    id: "6.6.2",
    observed: "text 204 B, TCP left open; nothing came until the message ended",
    why: WORKERS_NO_UTF8,
  },
  { pair: WORKERS, id: "7.3.2", observed: "Close (no code), TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.1", observed: "Close 0, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.2", observed: "Close 999, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.3", observed: "Close 1004, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.4", observed: "Close (no code), TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.5", observed: "Close 1006, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.6", observed: "Close 1015, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.7", observed: "Close 1016, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.8", observed: "Close 1100, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.9", observed: "Close 2000, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.10", observed: "Close 2999, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.11", observed: "Close 5000, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "7.9.12", observed: "Close 65535, TCP closed", why: WORKERS_CLOSE_CODES },
  { pair: WORKERS, id: "8.1", observed: "text 5 B, TCP left open", why: WORKERS_UNMASKED },
  { pair: WORKERS, id: "8.2", observed: "pong 5 B, TCP left open", why: WORKERS_UNMASKED },
  { pair: WORKERS, id: "8.3", observed: "Close 1000, TCP closed", why: WORKERS_UNMASKED },
  {
    pair: WORKERS,
    id: "2.10",
    observed: "pong 6 B, pong 6 B (other bytes), Close 1000, TCP closed",
    matches: WORKERS_FOLDED_PONGS,
    why: WORKERS_PONGS,
  },
  {
    pair: WORKERS,
    id: "2.11",
    observed: "pong 6 B, pong 6 B (other bytes) ×5, Close 1000, TCP closed",
    matches: WORKERS_FOLDED_PONGS,
    why: WORKERS_PONGS,
  },
  {
    pair: WORKERS,
    id: "9.3.2",
    observed: "text 10 B ×80, pong 3 B (other bytes), Close 1000, TCP closed",
    matches: WORKERS_FOLDED_PONGS,
    why: WORKERS_PONGS,
  },
];

/** How a case went. */
export type Verdict = "passed" | "failed" | "differing";

/** A case's verdict, and for a failure, what went wrong. */
export interface Judgement {
  verdict: Verdict;
  /** Why it failed: the outcome differs from both the RFC's and the documented one. */
  problem?: string;
  /** For a documented difference, why the runtime does so. */
  why?: string;
}

/** Judges an observed outcome against the expected one and the documented differences. */
export function judge(pair: string, id: string, expected: string, observed: string): Judgement {
  const documented = DIFFERENCES.find((difference) =>
    difference.pair === pair && difference.id === id
  );
  if (documented === undefined) {
    return observed === expected
      ? { verdict: "passed" }
      : { verdict: "failed", problem: `expected "${expected}", got "${observed}"` };
  }
  // An outcome that varies from run to run may also be the RFC's on some runs.
  if (documented.matches !== undefined && observed === expected) return { verdict: "passed" };
  if (observed === documented.observed || documented.matches?.test(observed) === true) {
    return { verdict: "differing", why: documented.why };
  }
  return {
    verdict: "failed",
    problem: observed === expected
      ? `now conforms: remove the documented difference "${documented.observed}"`
      : `documented "${documented.observed}", got "${observed}"`,
  };
}

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
  /** Why: what in the runtime makes it so. */
  readonly why: string;
}

const DENO = "deno/deno-adapter";
const BUN = "bun/bun-adapter";

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
  if (observed === documented.observed) return { verdict: "differing", why: documented.why };
  return {
    verdict: "failed",
    problem: observed === expected
      ? `now conforms: remove the documented difference "${documented.observed}"`
      : `documented "${documented.observed}", got "${observed}"`,
  };
}

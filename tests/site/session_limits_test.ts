/**
 * The session's limits without a network, over a fake link whose buffered amount and
 * pausing the test sets: the send buffer checked on `write()`, the receive queue's exact
 * boundary and resuming, and `drained()` once the connection is lost.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CloseInfo } from "../../src/core/connection.ts";
import { type Limits, resolveLimits } from "../../src/core/limits.ts";
import { PER_ITEM_BYTES } from "../../src/core/retained_bytes.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import type { Link } from "../../src/site/link.ts";
import { FakeLink } from "../helpers/fake_link.ts";
import { Session } from "../../src/site/session.ts";
import { RouteCounters } from "../../src/site/stats.ts";
import { Topics } from "../../src/site/topics.ts";

const LOST: CloseInfo = { code: 1006, reason: "", wasClean: false };

/** Lets pending promise reactions run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/**
 * A handler that records each message and holds it unfinished until `finishOne()`, so
 * that later messages queue.
 */
class Holding extends WebSocketHandler {
  static received: (string | Uint8Array)[] = [];
  static #pending: (() => void)[] = [];

  static reset(): void {
    Holding.received = [];
    Holding.#pending = [];
  }
  /** Finishes the message the handler is on, and lets the next be delivered. */
  static async finishOne(): Promise<void> {
    Holding.#pending.shift()?.();
    await settle();
  }
  override frameReceived(frame: string | Uint8Array): Promise<void> {
    Holding.received.push(frame);
    return new Promise((resolve) => Holding.#pending.push(resolve));
  }
}

/** A started session over `link` with `limits`, its handler `Holding`, errors collected. */
function open(link: Link, limits: Partial<Limits>, errors: unknown[] = []): Session {
  Holding.reset();
  const session = new Session({
    link,
    request: new Request("http://localhost/ws"),
    protocol: "",
    data: undefined,
    remoteAddress: undefined,
  }, {
    handler: Holding,
    limits: resolveLimits(limits),
    topics: new Topics(undefined, (error) => errors.push(error)),
    onError: (error) => errors.push(error),
    onClosed: () => {},
    path: "/ws",
    counters: new RouteCounters(),
  });
  session.start();
  return session;
}

test("write() fails the connection with 1008 once the send buffer passes maxSendBufferBytes", () => {
  const link = new FakeLink({ pausable: true });
  const session = open(link, { maxSendBufferBytes: 100 });
  assert.equal(session.write("x".repeat(100)), true);
  assert.equal(session.isOpen, true, "exactly at the limit is allowed");
  assert.deepEqual(link.calls, []);
  assert.equal(session.write("y"), true);
  assert.equal(session.isOpen, false, "one byte over fails the connection");
  assert.deepEqual(link.calls, ["terminate 1008 Send buffer overflow"]);
  assert.equal(session.write("z"), false, "nothing is written after that");
  assert.equal(link.sent.length, 2);
});

for (const pausable of [true, false]) {
  const what = pausable ? "pauses reading" : "fails with 1008 (a link that cannot pause)";
  test(`The receive queue holds exactly maxReceiveQueueBytes; one byte more ${what}`, async () => {
    const link = new FakeLink({ pausable });
    // Each waiting message counts for its bytes and PER_ITEM_BYTES.
    const session = open(link, { maxReceiveQueueBytes: 100 + 2 * PER_ITEM_BYTES });
    session.receive("first");
    assert.deepEqual(Holding.received, ["first"], "the handler is busy with the first message");
    session.receive("a".repeat(60));
    session.receive(new Uint8Array(40));
    assert.deepEqual(link.calls, [], "100 bytes in 2 messages queued: at the limit, not over it");
    session.receive("b");
    if (!pausable) {
      assert.deepEqual(link.calls, ["terminate 1008 Receive queue overflow"]);
      assert.equal(session.isOpen, false);
      return;
    }
    assert.deepEqual(link.calls, ["pause"]);
    session.receive("c");
    assert.deepEqual(link.calls, ["pause"], "paused once");
    assert.equal(session.isOpen, true);
    for (let i = 0; i < 5; i++) await Holding.finishOne();
    assert.deepEqual(
      Holding.received,
      ["first", "a".repeat(60), new Uint8Array(40), "b", "c"],
      "every queued message is delivered, in order",
    );
    assert.deepEqual(link.calls, ["pause", "resume"], "reading resumed as the queue drained");
  });
}

test("The receive queue resumes reading once at most half of maxReceiveQueueBytes is left", async () => {
  const link = new FakeLink({ pausable: true });
  // Each waiting message counts for its bytes and PER_ITEM_BYTES: the limit is 100 bytes
  // in 4 messages.
  const session = open(link, { maxReceiveQueueBytes: 100 + 4 * PER_ITEM_BYTES });
  session.receive("first");
  for (const size of [30, 30, 30, 20]) session.receive("q".repeat(size));
  assert.deepEqual(link.calls, ["pause"], "110 bytes in 4 messages queued");
  await Holding.finishOne();
  assert.deepEqual(link.calls, ["pause"], "80 bytes in 3 messages left: still paused");
  await Holding.finishOne();
  assert.deepEqual(
    link.calls,
    ["pause", "resume"],
    "50 bytes in 2 messages left, half the limit: reading",
  );
  for (let i = 0; i < 3; i++) await Holding.finishOne();
  assert.equal(Holding.received.length, 5);
  assert.deepEqual(link.calls, ["pause", "resume"]);
});

test("drained() settles once the connection is lost, whatever is still buffered", async () => {
  const link = new FakeLink({ pausable: true });
  const session = open(link, {});
  session.write(new Uint8Array(1000));
  let settled = false;
  const waiting = session.drained().then(() => settled = true);
  session.writable();
  await settle();
  assert.equal(settled, false, "1000 bytes still buffered");
  session.closed(LOST);
  await settle();
  assert.equal(settled, true, "the connection is gone: nothing will drain");
  await waiting;
  let late = false;
  session.drained().then(() => late = true);
  await settle();
  assert.equal(late, true, "drained() after the loss settles at once");
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Limits, resolveLimits } from "../../src/core/limits.ts";
import { Liveness } from "../../src/core/liveness.ts";

// What Liveness.due() asks for, with the close code and reason each timeout carries.
const PING = { type: "ping" };
const IDLE_TIMEOUT = { type: "close", code: 1001, reason: "Idle timeout" };
const HEARTBEAT_TIMEOUT = { type: "fail", code: 1001, reason: "Heartbeat timeout" };
const CLOSE_TIMEOUT = { type: "fail", code: 1006, reason: "Close handshake timed out" };

/** A Liveness at time `now` with only the given timers on. */
function liveness(limits: Partial<Limits>, now = 0): Liveness {
  return new Liveness(
    resolveLimits({
      heartbeatIntervalMs: 0,
      heartbeatTimeoutMs: 0,
      idleTimeoutMs: 0,
      closeTimeoutMs: 0,
      ...limits,
    }),
    now,
  );
}

describe("RFC 6455 §5.5.2, §7.1.1 heartbeat, idle and close deadlines", () => {
  test("Liveness with every timer off has no deadline", () => {
    const timers = liveness({});
    assert.equal(timers.nextDeadline(), Infinity);
    assert.equal(timers.due(1e12), undefined);
  });

  test("Liveness with the default limits pings after 20 s of silence", () => {
    const timers = new Liveness(resolveLimits(), 1000);
    assert.equal(timers.nextDeadline(), 21_000);
    assert.equal(timers.due(20_999), undefined);
    assert.deepEqual(timers.due(21_000), PING);
  });

  test("Liveness asks for a ping at the heartbeat interval, then waits for the answer", () => {
    const timers = liveness({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 }, 100);
    assert.equal(timers.nextDeadline(), 1100);
    assert.equal(timers.due(1099), undefined);
    assert.deepEqual(timers.due(1150), PING);
    assert.equal(timers.nextDeadline(), 1650, "the timeout counts from the ping");
    assert.equal(timers.due(1200), undefined, "one ping per interval");
    assert.equal(timers.due(1649), undefined);
    assert.deepEqual(timers.due(1650), HEARTBEAT_TIMEOUT);
  });

  test("Liveness.received() answers a pending heartbeat and restarts the interval", () => {
    const timers = liveness({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    assert.deepEqual(timers.due(1000), PING);
    timers.received(1200);
    assert.equal(timers.nextDeadline(), 2200);
    assert.equal(timers.due(1600), undefined, "no timeout once answered");
    assert.deepEqual(timers.due(2200), PING);
  });

  test("Liveness.received() before the interval postpones the ping", () => {
    const timers = liveness({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    timers.received(800);
    assert.equal(timers.due(1000), undefined);
    assert.equal(timers.nextDeadline(), 1800);
  });

  test("Liveness reports an idle timeout after idleTimeoutMs with no message", () => {
    const timers = liveness({ idleTimeoutMs: 5000 });
    assert.equal(timers.nextDeadline(), 5000);
    assert.equal(timers.due(4999), undefined);
    assert.deepEqual(timers.due(5000), IDLE_TIMEOUT);
  });

  test("Liveness.messageReceived() restarts the idle timer; other bytes do not", () => {
    const timers = liveness({ idleTimeoutMs: 5000 });
    timers.received(4000);
    assert.equal(timers.nextDeadline(), 5000, "a ping or pong does not make it busy");
    timers.messageReceived(4000);
    assert.equal(timers.nextDeadline(), 9000);
    assert.equal(timers.due(5000), undefined);
    assert.deepEqual(timers.due(9000), IDLE_TIMEOUT);
  });

  test("Liveness.nextDeadline() is the earlier of the heartbeat and idle deadlines", () => {
    const timers = liveness({
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 1000,
      idleTimeoutMs: 1500,
    });
    assert.equal(timers.nextDeadline(), 1000);
    assert.deepEqual(timers.due(1000), PING);
    assert.equal(timers.nextDeadline(), 1500);
    assert.deepEqual(timers.due(1500), IDLE_TIMEOUT, "the idle timeout comes first");
  });

  test("Liveness.closeStarted() replaces every other deadline with the close timeout", () => {
    const timers = liveness({
      heartbeatIntervalMs: 1000,
      idleTimeoutMs: 1500,
      closeTimeoutMs: 3000,
    });
    timers.closeStarted(500);
    assert.equal(timers.nextDeadline(), 3500);
    assert.equal(timers.due(2000), undefined, "no ping and no idle timeout while closing");
    assert.equal(timers.due(3499), undefined);
    assert.deepEqual(timers.due(3500), CLOSE_TIMEOUT);
  });

  test("Liveness.closeStarted() keeps the first deadline when called again", () => {
    const timers = liveness({ closeTimeoutMs: 3000 });
    timers.closeStarted(0);
    timers.closeStarted(2000);
    assert.equal(timers.nextDeadline(), 3000);
    assert.deepEqual(timers.due(3000), CLOSE_TIMEOUT);
  });

  test("Liveness stops heartbeat and idle deadlines once closing, even with no close timeout", () => {
    const timers = liveness({
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 500,
      idleTimeoutMs: 1500,
    });
    timers.closeStarted(100);
    assert.equal(timers.nextDeadline(), Infinity);
    assert.equal(timers.due(1000), undefined, "no heartbeat ping after our Close frame");
    assert.equal(timers.due(10_000), undefined, "no idle timeout over and over");
  });
});

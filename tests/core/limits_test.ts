import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_LIMITS, type Limits, resolveLimits } from "../../src/core/limits.ts";

const MiB = 1024 * 1024;

test("DEFAULT_LIMITS holds the documented defaults", () => {
  assert.deepEqual({ ...DEFAULT_LIMITS }, {
    maxMessageBytes: 16 * MiB,
    maxFrameBytes: 16 * MiB,
    maxSendBufferBytes: 16 * MiB,
    sendPauseBytes: MiB,
    maxHeaderBytes: 16 * 1024,
    maxHeaderCount: 100,
    handshakeTimeoutMs: 10_000,
    closeTimeoutMs: 10_000,
    writeTimeoutMs: 30_000,
    heartbeatIntervalMs: 20_000,
    heartbeatTimeoutMs: 20_000,
    idleTimeoutMs: 0,
    maxReceiveQueueBytes: 16 * MiB,
  });
});

test("DEFAULT_LIMITS is frozen", () => {
  assert.ok(Object.isFrozen(DEFAULT_LIMITS));
  assert.throws(() => {
    (DEFAULT_LIMITS as Limits).maxMessageBytes = 1;
  }, TypeError);
  assert.equal(DEFAULT_LIMITS.maxMessageBytes, 16 * MiB);
});

test("resolveLimits() with no overrides gives the defaults, frozen", () => {
  const limits = resolveLimits();
  assert.deepEqual(limits, DEFAULT_LIMITS);
  assert.ok(Object.isFrozen(limits));
  assert.deepEqual(resolveLimits({}), DEFAULT_LIMITS);
});

test("resolveLimits() applies overrides and keeps the other defaults", () => {
  const limits = resolveLimits({ closeTimeoutMs: 500, maxHeaderCount: 10 });
  assert.equal(limits.closeTimeoutMs, 500);
  assert.equal(limits.maxHeaderCount, 10);
  assert.equal(limits.heartbeatIntervalMs, DEFAULT_LIMITS.heartbeatIntervalMs);
  assert.ok(Object.isFrozen(limits));
  assert.equal(DEFAULT_LIMITS.closeTimeoutMs, 10_000, "the defaults are not changed");
});

test("resolveLimits() ignores undefined fields", () => {
  const limits = resolveLimits({ maxMessageBytes: undefined, idleTimeoutMs: undefined });
  assert.deepEqual(limits, DEFAULT_LIMITS);
});

test("resolveLimits() ties maxFrameBytes to maxMessageBytes unless it is given", () => {
  assert.equal(resolveLimits({ maxMessageBytes: 1000 }).maxFrameBytes, 1000);
  const both = resolveLimits({ maxMessageBytes: 1000, maxFrameBytes: 100 });
  assert.equal(both.maxMessageBytes, 1000);
  assert.equal(both.maxFrameBytes, 100);
});

test("resolveLimits() accepts 0 for a timeout, turning it off", () => {
  const limits = resolveLimits({ heartbeatIntervalMs: 0, closeTimeoutMs: 0, idleTimeoutMs: 0 });
  assert.equal(limits.heartbeatIntervalMs, 0);
  assert.equal(limits.closeTimeoutMs, 0);
});

test("resolveLimits() rejects a negative value with a RangeError naming the limit", () => {
  assert.throws(() => resolveLimits({ closeTimeoutMs: -1 }), {
    name: "RangeError",
    message: 'Limit "closeTimeoutMs" must be a non-negative integer, got -1',
  });
});

test("resolveLimits() rejects a value that is not an integer", () => {
  for (const value of [1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => resolveLimits({ maxMessageBytes: value }), {
      name: "RangeError",
      message: `Limit "maxMessageBytes" must be a non-negative integer, got ${value}`,
    });
  }
  assert.throws(
    () => resolveLimits({ maxMessageBytes: "1024" as unknown as number }),
    { name: "RangeError", message: /"maxMessageBytes" must be a non-negative integer/ },
  );
});

test("resolveLimits() rejects an unknown key", () => {
  assert.throws(
    () => resolveLimits({ maxMesageBytes: 10 } as unknown as Partial<Limits>),
    { name: "RangeError", message: 'Unknown limit "maxMesageBytes"' },
  );
});

test("resolveLimits() rejects a zero size", () => {
  for (
    const key of [
      "maxMessageBytes",
      "maxFrameBytes",
      "maxSendBufferBytes",
      "sendPauseBytes",
      "maxHeaderBytes",
      "maxHeaderCount",
      "maxReceiveQueueBytes",
    ] as const
  ) {
    assert.throws(() => resolveLimits({ [key]: 0 }), {
      name: "RangeError",
      message: `Limit "${key}" must be at least 1, got 0`,
    });
  }
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_LIMITS, type Limits, resolveLimits } from "../../src/core/limits.ts";

const MiB = 1024 * 1024;

describe("RFC 6455 §10.4 implementation-specific limits: the defaults", () => {
  test("DEFAULT_LIMITS holds the documented defaults", () => {
    assert.deepEqual({ ...DEFAULT_LIMITS }, {
      maxMessageBytes: 16 * MiB,
      maxFrameBytes: 16 * MiB,
      maxSendBufferBytes: 18 * MiB,
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

  test("resolveLimits() makes room to send a whole message of maxMessageBytes by default", () => {
    for (const maxMessageBytes of [1, 1024, 16 * MiB, 64 * MiB]) {
      for (const sendPauseBytes of [undefined, 1024, 8 * MiB]) {
        const limits = resolveLimits({ maxMessageBytes, sendPauseBytes });
        // A frame of maxMessageBytes on top of what a raw socket may hold before reading
        // pauses, and as much again for frame headers and the replies to the read in progress.
        assert.ok(
          limits.maxSendBufferBytes >= limits.maxMessageBytes + 2 * limits.sendPauseBytes,
          `maxMessageBytes ${maxMessageBytes}, sendPauseBytes ${sendPauseBytes}`,
        );
        assert.ok(limits.maxSendBufferBytes >= 16 * MiB, "never below the old 16 MiB");
        assert.ok(limits.maxReceiveQueueBytes >= limits.maxMessageBytes);
      }
    }
    assert.equal(resolveLimits({ maxMessageBytes: 64 * MiB }).maxSendBufferBytes, 66 * MiB);
    assert.equal(resolveLimits({ maxMessageBytes: 64 * MiB }).maxReceiveQueueBytes, 64 * MiB);
    assert.equal(resolveLimits({ maxMessageBytes: 1024 }).maxSendBufferBytes, 16 * MiB);
    const explicit = resolveLimits({ maxMessageBytes: 64 * MiB, maxSendBufferBytes: MiB });
    assert.equal(explicit.maxSendBufferBytes, MiB, "a value set by hand is kept");
  });

  test("DEFAULT_LIMITS is what resolveLimits() works out from nothing", () => {
    assert.deepEqual(resolveLimits({ ...DEFAULT_LIMITS }), DEFAULT_LIMITS);
    const derived = resolveLimits({ maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes });
    assert.deepEqual(derived, DEFAULT_LIMITS);
  });
});

describe("resolveLimits(): merging and checking overrides (not an RFC rule)", () => {
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
  });

  test("resolveLimits() rejects a value that is not a number with a TypeError", () => {
    assert.throws(
      () => resolveLimits({ maxMessageBytes: "1024" as unknown as number }),
      {
        name: "TypeError",
        message: 'Limit "maxMessageBytes" must be a number, got the string "1024"',
      },
    );
    for (const [value, shown] of [[null, "null"], [{}, "a object"], [true, "boolean true"]]) {
      assert.throws(
        () => resolveLimits({ closeTimeoutMs: value as unknown as number }),
        { name: "TypeError", message: `Limit "closeTimeoutMs" must be a number, got ${shown}` },
      );
    }
  });

  test("resolveLimits() rejects an unknown key with a TypeError listing the limits", () => {
    assert.throws(
      () => resolveLimits({ maxMesageBytes: 10 } as unknown as Partial<Limits>),
      {
        name: "TypeError",
        message: `Unknown limit "maxMesageBytes"; the limits are ${
          Object.keys(DEFAULT_LIMITS).join(", ")
        }`,
      },
    );
    assert.throws(
      () => resolveLimits({ toString: 10 } as unknown as Partial<Limits>),
      { name: "TypeError", message: /^Unknown limit "toString"/ },
    );
  });

  test("resolveLimits() rejects limits that are not an object with a TypeError", () => {
    for (const [value, shown] of [[5, "number 5"], ["big", 'the string "big"'], [[], "an array"]]) {
      assert.throws(() => resolveLimits(value as unknown as Partial<Limits>), {
        name: "TypeError",
        message: `Limits must be an object such as { maxMessageBytes: 1048576 }, got ${shown}`,
      });
    }
    assert.throws(() => resolveLimits(null as unknown as Partial<Limits>), TypeError);
  });

  test("resolveLimits() rejects maxFrameBytes above maxMessageBytes, naming both", () => {
    assert.throws(() => resolveLimits({ maxMessageBytes: 1000, maxFrameBytes: 1001 }), {
      name: "RangeError",
      message:
        'Limit "maxFrameBytes" (1001) must not exceed "maxMessageBytes" (1000): a frame is part of a message',
    });
    assert.throws(() => resolveLimits({ maxFrameBytes: 32 * MiB }), {
      name: "RangeError",
      message: /^Limit "maxFrameBytes" \(33554432\) must not exceed "maxMessageBytes" \(16777216\)/,
    });
    assert.equal(resolveLimits({ maxMessageBytes: 1000, maxFrameBytes: 1000 }).maxFrameBytes, 1000);
  });

  test("resolveLimits() rejects sendPauseBytes above maxSendBufferBytes, naming both", () => {
    assert.throws(() => resolveLimits({ maxSendBufferBytes: 4096, sendPauseBytes: 8192 }), {
      name: "RangeError",
      message:
        'Limit "sendPauseBytes" (8192) must not exceed "maxSendBufferBytes" (4096): reading must pause before the peer is dropped',
    });
  });

  test("resolveLimits() lowers the default sendPauseBytes to a smaller maxSendBufferBytes", () => {
    const limits = resolveLimits({ maxSendBufferBytes: 100 });
    assert.equal(limits.maxSendBufferBytes, 100);
    assert.equal(limits.sendPauseBytes, 100);
    assert.equal(resolveLimits({ maxSendBufferBytes: 4 * MiB }).sendPauseBytes, MiB);
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
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  buildClosePayload,
  checkCloseArguments,
  isValidCloseCode,
  parseClosePayload,
  truncateReason,
} from "../../src/core/close.ts";
import { WebSocketError } from "../../src/core/errors.ts";
import { hex, join, utf8 } from "../helpers/frames.ts";

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

/** A close payload with `code` in network byte order and a UTF-8 reason. */
function payload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  return join(Uint8Array.of(code >> 8, code & 0xff), reason);
}

/** Asserts that `run` throws a WebSocketError with this close code and reason. */
function assertWebSocketError(run: () => unknown, closeCode: number, reason: string): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof WebSocketError);
    assert.equal(error.closeCode, closeCode);
    assert.equal(error.reason, reason);
    return true;
  });
}

describe("RFC 6455 §7.4 status codes", () => {
  test("isValidCloseCode() accepts 1000-1003, 1007-1014 and 3000-4999", () => {
    for (const code of VALID) assert.equal(isValidCloseCode(code), true, `${code}`);
    for (let code = 3000; code <= 4999; code += 111) assert.equal(isValidCloseCode(code), true);
  });

  test("isValidCloseCode() rejects reserved, reported-only and out-of-range codes", () => {
    for (const code of INVALID) assert.equal(isValidCloseCode(code), false, `${code}`);
  });
});

describe("RFC 6455 §5.5.1 reading a Close payload", () => {
  test("parseClosePayload() reads an empty payload as 1005 with no reason", () => {
    assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: "" });
  });

  test("parseClosePayload() rejects a 1-byte payload with 1002", () => {
    assertWebSocketError(
      () => parseClosePayload(hex("03")),
      1002,
      "Close frame with a 1-byte payload",
    );
  });

  test("parseClosePayload() accepts every valid code, with and without a reason", () => {
    for (const code of VALID) {
      assert.deepEqual(parseClosePayload(payload(code)), { code, reason: "" });
      assert.deepEqual(parseClosePayload(payload(code, utf8("bye ✓"))), { code, reason: "bye ✓" });
    }
  });

  test("parseClosePayload() reads the code in network byte order", () => {
    assert.deepEqual(parseClosePayload(hex("03 e8 6f 6b")), { code: 1000, reason: "ok" });
    assert.deepEqual(parseClosePayload(hex("13 87")), { code: 4999, reason: "" });
  });

  test("parseClosePayload() rejects every invalid code with 1002", () => {
    for (const code of INVALID) {
      assertWebSocketError(
        () => parseClosePayload(payload(code)),
        1002,
        `Invalid close code ${code}`,
      );
    }
  });

  test("parseClosePayload() rejects a reason that is not valid UTF-8 with 1007", () => {
    for (const bad of ["ff", "c0 80", "ed a0 80", "f4 90 80 80", "e2 82", "80"]) {
      assertWebSocketError(
        () => parseClosePayload(payload(1000, hex(bad))),
        1007,
        "Close reason is not valid UTF-8",
      );
    }
  });

  test("parseClosePayload() keeps a reason's byte order mark", () => {
    assert.deepEqual(parseClosePayload(payload(1000, hex("ef bb bf 68 69"))), {
      code: 1000,
      reason: "\ufeffhi",
    });
  });
});

describe("RFC 6455 §5.5.1, §7.4 checking a Close the application sends", () => {
  test("checkCloseArguments() accepts valid codes and reasons up to 123 bytes", () => {
    for (const code of VALID) checkCloseArguments(code, "");
    checkCloseArguments(1000, "x".repeat(123));
    checkCloseArguments(1000, "é".repeat(61) + "x");
  });

  test("checkCloseArguments() rejects a code that may not be sent with a RangeError", () => {
    for (const code of INVALID) {
      assert.throws(() => checkCloseArguments(code, ""), {
        name: "RangeError",
        message: `Invalid close code ${code}: use 1000-1003, 1007-1014 or 3000-4999`,
      });
    }
  });

  test("checkCloseArguments() rejects a code that is not an integer with a TypeError", () => {
    for (const code of [1000.5, NaN, Infinity]) {
      assert.throws(() => checkCloseArguments(code, ""), {
        name: "TypeError",
        message: `Close code must be an integer, got ${code}`,
      });
    }
    assert.throws(() => checkCloseArguments("1000" as unknown as number, ""), {
      name: "TypeError",
      message: "Close code must be an integer, got 1000",
    });
  });

  test("checkCloseArguments() rejects a reason that is not a string with a TypeError", () => {
    assert.throws(() => checkCloseArguments(1000, 42 as unknown as string), {
      name: "TypeError",
      message: "Close reason must be a string",
    });
  });

  test("checkCloseArguments() rejects a reason over 123 UTF-8 bytes with a RangeError", () => {
    assert.throws(() => checkCloseArguments(1000, "x".repeat(124)), {
      name: "RangeError",
      message: "Close reason is 124 bytes; at most 123 are allowed",
    });
    // 62 two-byte characters: 62 code units, 124 bytes.
    assert.throws(() => checkCloseArguments(1000, "é".repeat(62)), {
      name: "RangeError",
      message: "Close reason is 124 bytes; at most 123 are allowed",
    });
  });
});

describe("RFC 6455 §5.5.1 writing a Close payload", () => {
  test("buildClosePayload() writes the code in network byte order, then the reason", () => {
    assert.deepEqual(buildClosePayload(1000, ""), hex("03 e8"));
    assert.deepEqual(buildClosePayload(4999, "ok"), hex("13 87 6f 6b"));
    assert.deepEqual(buildClosePayload(1001, "é"), hex("03 e9 c3 a9"));
  });

  test("buildClosePayload() builds an empty payload for 1005", () => {
    assert.deepEqual(buildClosePayload(1005, ""), new Uint8Array(0));
  });

  test("buildClosePayload() cuts the reason to 123 bytes on a character boundary", () => {
    const built = buildClosePayload(1000, "€".repeat(50));
    assert.equal(built.length, 2 + 123);
    assert.deepEqual(parseClosePayload(built), { code: 1000, reason: "€".repeat(41) });
    const odd = buildClosePayload(1000, "x" + "€".repeat(50));
    assert.equal(odd.length, 2 + 1 + 120);
  });

  test("buildClosePayload() output parses back to the same code and reason", () => {
    for (const code of VALID) {
      assert.deepEqual(parseClosePayload(buildClosePayload(code, "bye 👋")), {
        code,
        reason: "bye 👋",
      });
    }
  });
});

describe("RFC 6455 §5.5 a reason fits in a control frame (123 bytes)", () => {
  test("truncateReason() keeps a reason of at most 123 bytes unchanged", () => {
    assert.equal(truncateReason(""), "");
    assert.equal(truncateReason("x".repeat(123)), "x".repeat(123));
    const mixed = "a" + "é" + "€" + "😀"; // 1 + 2 + 3 + 4 bytes
    assert.equal(truncateReason(mixed), mixed);
  });

  test("truncateReason() cuts at 123 bytes of ASCII", () => {
    assert.equal(truncateReason("x".repeat(500)), "x".repeat(123));
  });

  test("truncateReason() never splits a character, whatever its size", () => {
    const encoder = new TextEncoder();
    for (const char of ["é", "€", "😀"]) {
      for (let prefix = 0; prefix < 4; prefix++) {
        const reason = "x".repeat(prefix) + char.repeat(100);
        const cut = truncateReason(reason);
        const bytes = encoder.encode(cut).length;
        assert.ok(bytes <= 123, `${bytes} bytes`);
        assert.ok(bytes > 123 - encoder.encode(char).length, `${bytes} bytes: cut too short`);
        assert.ok(reason.startsWith(cut));
        assert.equal(
          cut.length,
          prefix + char.length * ((bytes - prefix) / encoder.encode(char).length),
        );
        assert.doesNotMatch(cut, /[\ud800-\udbff]$/, "no lone high surrogate at the end");
      }
    }
    assert.equal(truncateReason("é".repeat(100)).length, 61);
  });

  test("truncateReason() counts a lone surrogate as the 3 bytes it is sent as", () => {
    const cut = truncateReason("\ud800".repeat(50));
    assert.equal(cut, "\ud800".repeat(41));
    assert.equal(new TextEncoder().encode(cut).length, 123);
  });
});

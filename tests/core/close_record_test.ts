import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloseRecord } from "../../src/core/close_record.ts";

describe("RFC 6455 §7.1.7 failing the connection: the first failure wins", () => {
  test("CloseRecord.end() reports what it is given when nothing failed", () => {
    const record = new CloseRecord();
    assert.equal(record.ended, false);
    assert.equal(record.info, undefined);
    const info = { code: 1000, reason: "bye", wasClean: true };
    assert.deepEqual(record.end(info), info);
    assert.equal(record.ended, true);
    assert.deepEqual(record.info, info);
  });

  test("CloseRecord.end() reports the failure noted before, not the runtime's 1006", () => {
    const record = new CloseRecord();
    record.fail(1009, "Message too big");
    assert.equal(record.ended, false, "a failure is not the end");
    const expected = { code: 1009, reason: "Message too big", wasClean: false };
    assert.deepEqual(record.end({ code: 1006, reason: "", wasClean: false }), expected);
    assert.deepEqual(record.info, expected);
  });

  test("CloseRecord.fail() keeps the first failure", () => {
    const record = new CloseRecord();
    record.fail(1008, "Send buffer overflow");
    record.fail(1006, "Close handshake timed out");
    assert.deepEqual(record.end({ code: 1000, reason: "", wasClean: true }), {
      code: 1008,
      reason: "Send buffer overflow",
      wasClean: false,
    });
  });

  test("CloseRecord.end() reports once; a failure after the end changes nothing", () => {
    const record = new CloseRecord();
    const info = { code: 1001, reason: "", wasClean: true };
    record.end(info);
    record.fail(1011, "Internal error");
    assert.equal(record.end({ code: 1006, reason: "", wasClean: false }), undefined);
    assert.deepEqual(record.info, info);
  });
});

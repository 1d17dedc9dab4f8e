import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRange } from "../../src/files/range.ts";

test("parseRange() reads a first-last range", () => {
  assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=10-10", 100), { start: 10, end: 10 });
});

test("parseRange() reads a suffix range", () => {
  assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
});

test("parseRange() cuts a suffix longer than the file to the whole file", () => {
  assert.deepEqual(parseRange("bytes=-500", 100), { start: 0, end: 99 });
});

test("parseRange() reads an open-ended range", () => {
  assert.deepEqual(parseRange("bytes=5-", 100), { start: 5, end: 99 });
});

test("parseRange() cuts a last byte beyond the file to its end", () => {
  assert.deepEqual(parseRange("bytes=50-1000", 100), { start: 50, end: 99 });
  assert.deepEqual(parseRange("bytes=0-99999999999999999999999", 100), { start: 0, end: 99 });
});

test("parseRange() accepts any case of the unit and surrounding spaces", () => {
  assert.deepEqual(parseRange("  Bytes=0-0 ", 100), { start: 0, end: 0 });
});

test("parseRange() reports a range starting at or after the end as unsatisfiable", () => {
  assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=100-200", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=99999999999999999999999-", 100), "unsatisfiable");
});

test("parseRange() reports an empty suffix or any range of an empty file as unsatisfiable", () => {
  assert.equal(parseRange("bytes=-0", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-5", 0), "unsatisfiable");
});

test("parseRange() ignores other units, several ranges and bad syntax", () => {
  const ignored = [
    "items=0-9",
    "bytes=0-1,5-6",
    "bytes=0-9,",
    "bytes=9-0",
    "bytes=-",
    "bytes=",
    "bytes=a-b",
    "bytes=1.5-2",
    "bytes=+1-2",
    "bytes = 0-9",
    "0-9",
    "",
  ];
  for (const header of ignored) {
    assert.equal(parseRange(header, 100), null, header);
  }
});

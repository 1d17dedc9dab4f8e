import { test } from "node:test";
import assert from "node:assert/strict";
import { isNotModified, isRangeFresh, validatorsOf } from "../../src/files/conditional.ts";

const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const validators = validatorsOf(1024, MTIME);

test("validatorsOf() builds a weak ETag and an HTTP-date", () => {
  assert.match(validators.etag, /^W\/"[0-9a-z]+-[0-9a-z]+"$/);
  assert.equal(validators.lastModified, "Tue, 02 Jan 2024 03:04:05 GMT");
});

test("validatorsOf() changes the ETag with size or modification time", () => {
  assert.notEqual(validatorsOf(1025, MTIME).etag, validators.etag);
  assert.notEqual(validatorsOf(1024, MTIME + 1).etag, validators.etag);
  assert.equal(validatorsOf(1024, MTIME).etag, validators.etag);
});

test("isNotModified() matches If-None-Match weakly, in a list, or with *", () => {
  const strong = validators.etag.slice(2);
  for (const value of [validators.etag, strong, `"other", ${validators.etag}`, "*"]) {
    assert.equal(isNotModified(new Headers({ "if-none-match": value }), validators), true, value);
  }
  for (const value of ['"other"', 'W/"other"', ""]) {
    assert.equal(isNotModified(new Headers({ "if-none-match": value }), validators), false, value);
  }
});

test("isNotModified() compares If-Modified-Since to the second", () => {
  const at = (date: string) =>
    isNotModified(new Headers({ "if-modified-since": date }), validators);
  assert.equal(at("Tue, 02 Jan 2024 03:04:05 GMT"), true);
  assert.equal(at("Wed, 03 Jan 2024 00:00:00 GMT"), true);
  assert.equal(at("Tue, 02 Jan 2024 03:04:04 GMT"), false);
  assert.equal(at("not a date"), false);
});

test("isNotModified() lets If-None-Match take precedence over If-Modified-Since", () => {
  const headers = new Headers({
    "if-none-match": '"other"',
    "if-modified-since": "Wed, 03 Jan 2024 00:00:00 GMT",
  });
  assert.equal(isNotModified(headers, validators), false);
});

test("isNotModified() is false without conditional headers", () => {
  assert.equal(isNotModified(new Headers(), validators), false);
});

test("isRangeFresh() allows a range without If-Range", () => {
  assert.equal(isRangeFresh(new Headers(), validators), true);
});

test("isRangeFresh() allows a range when If-Range equals Last-Modified", () => {
  const headers = new Headers({ "if-range": validators.lastModified });
  assert.equal(isRangeFresh(headers, validators), true);
});

test("isRangeFresh() refuses a range for another date or any entity tag", () => {
  for (const value of ["Tue, 02 Jan 2024 03:04:04 GMT", validators.etag, '"x"', "junk"]) {
    assert.equal(isRangeFresh(new Headers({ "if-range": value }), validators), false, value);
  }
});

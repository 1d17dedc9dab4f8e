import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  isOptionsObject,
} from "../../src/core/options.ts";

test("describeValue() names the type and shows short values", () => {
  assert.equal(describeValue("chat"), 'the string "chat"');
  assert.equal(describeValue(8080), "the number 8080");
  assert.equal(describeValue(true), "the boolean true");
  assert.equal(describeValue(10n), "the bigint 10n");
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue([1]), "an array");
  assert.equal(describeValue(() => {}), "a function");
  assert.equal(describeValue({}), "an object");
  assert.equal(describeValue(new Map()), "an instance of Map");
  assert.equal(describeValue(Symbol("s")), "a symbol");
  assert.equal(describeValue("x".repeat(100)), `the string "${"x".repeat(40)}…"`);
});

test("isOptionsObject() takes objects but not null, arrays or functions", () => {
  assert.equal(isOptionsObject({}), true);
  assert.equal(isOptionsObject(new Map()), true);
  for (const value of [null, undefined, [], () => {}, "x", 1]) {
    assert.equal(isOptionsObject(value), false, describeValue(value));
  }
});

test("checkOptionNames() gives undefined as an empty object and the object itself", () => {
  assert.deepEqual(checkOptionNames("f()", undefined, ["a"]), {});
  const options = { a: 1 };
  assert.equal(checkOptionNames("f()", options, ["a"]), options);
});

test("checkOptionNames() rejects a value that is not an object with a TypeError", () => {
  assert.throws(() => checkOptionNames("serve()", 8080, ["port"]), {
    name: "TypeError",
    message: "serve(): options must be an object, got the number 8080",
  });
  assert.throws(() => checkOptionNames("f()", [], ["a"], "limits"), {
    name: "TypeError",
    message: 'f(): option "limits" must be an object, got an array',
  });
});

test("checkOptionNames() rejects an unknown name, suggesting the nearest and listing all", () => {
  assert.throws(() => checkOptionNames("serve()", { prot: 8080 }, ["port", "hostname"]), {
    name: "TypeError",
    message:
      'serve(): unknown option "prot" (did you mean "port"?); the options are port, hostname',
  });
  assert.throws(() => checkOptionNames("f()", { PORT: 1 }, ["port"]), /did you mean "port"/);
  assert.throws(() => checkOptionNames("f()", { hsotname: 1 }, ["hostname"]), /"hostname"\?/);
  assert.throws(
    () => checkOptionNames("f()", { origins: [] }, ["protocols", "allowedOrigins"]),
    /unknown option "origins" \(did you mean "allowedOrigins"\?\)/,
  );
  assert.throws(() => checkOptionNames("f()", { zzzzzz: 1 }, ["port"]), {
    name: "TypeError",
    message: 'f(): unknown option "zzzzzz"; the options are port',
  });
  assert.throws(() => checkOptionNames("f()", { levle: 1 }, ["level"], "perMessageDeflate"), {
    name: "TypeError",
    message: 'f(): unknown option "perMessageDeflate.levle" (did you mean ' +
      '"perMessageDeflate.level"?); the options of "perMessageDeflate" are level',
  });
});

test("checkInteger() throws a TypeError for a non-number and a RangeError out of range", () => {
  checkInteger("serve()", "port", undefined, 0, 65535);
  checkInteger("serve()", "port", 65535, 0, 65535);
  assert.throws(() => checkInteger("serve()", "port", "80", 0, 65535), {
    name: "TypeError",
    message: 'serve(): option "port" must be an integer from 0 to 65535, got the string "80"',
  });
  for (const value of [-1, 65536, 80.5, NaN, Infinity]) {
    assert.throws(() => checkInteger("serve()", "port", value, 0, 65535), {
      name: "RangeError",
      message: `serve(): option "port" must be an integer from 0 to 65535, got the number ${value}`,
    });
  }
  assert.throws(() => checkInteger("f()", "n", 0, 1), {
    name: "RangeError",
    message: 'f(): option "n" must be an integer of at least 1, got the number 0',
  });
});

test("checkType() throws a TypeError naming the option and the type", () => {
  checkType("f()", "on", undefined, "function");
  checkType("f()", "on", () => {}, "function");
  assert.throws(() => checkType("f()", "on", "x", "function"), {
    name: "TypeError",
    message: 'f(): option "on" must be a function, got the string "x"',
  });
  assert.throws(() => checkType("f()", "reusePort", 1, "boolean"), {
    name: "TypeError",
    message: 'f(): option "reusePort" must be a boolean, got the number 1',
  });
});

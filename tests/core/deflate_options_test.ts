import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkDeflateSetting,
  DEFAULT_DEFLATE_OPTIONS,
  type DeflateSetting,
  resolveDeflateOptions,
} from "../../src/core/deflate_options.ts";

test("DEFAULT_DEFLATE_OPTIONS has ws's defaults and is frozen", () => {
  assert.deepEqual(DEFAULT_DEFLATE_OPTIONS, {
    threshold: 1024,
    level: 6,
    memLevel: 8,
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    concurrencyLimit: 10,
  });
  assert.ok(Object.isFrozen(DEFAULT_DEFLATE_OPTIONS));
});

test("resolveDeflateOptions() is off when nothing or false is given", () => {
  assert.equal(resolveDeflateOptions(), undefined);
  assert.equal(resolveDeflateOptions(undefined, undefined), undefined);
  assert.equal(resolveDeflateOptions(false), undefined);
});

test("resolveDeflateOptions() gives the defaults for true", () => {
  const options = resolveDeflateOptions(true);
  assert.deepEqual(options, DEFAULT_DEFLATE_OPTIONS);
  assert.ok(Object.isFrozen(options));
});

test("resolveDeflateOptions() merges an object's fields over the defaults", () => {
  assert.deepEqual(resolveDeflateOptions({ threshold: 0, serverMaxWindowBits: 10 }), {
    ...DEFAULT_DEFLATE_OPTIONS,
    threshold: 0,
    serverMaxWindowBits: 10,
  });
});

test("resolveDeflateOptions() lets the last setting given decide on or off", () => {
  assert.equal(resolveDeflateOptions(true, false), undefined);
  assert.equal(resolveDeflateOptions({ level: 1 }, false), undefined);
  assert.deepEqual(resolveDeflateOptions(false, true), DEFAULT_DEFLATE_OPTIONS);
  assert.deepEqual(resolveDeflateOptions(true, undefined), DEFAULT_DEFLATE_OPTIONS);
});

test("resolveDeflateOptions() applies a site's fields under a route's", () => {
  const site = { level: 1, memLevel: 5 };
  assert.deepEqual(resolveDeflateOptions(site, { memLevel: 9 }), {
    ...DEFAULT_DEFLATE_OPTIONS,
    level: 1,
    memLevel: 9,
  });
  // A route's `true` keeps the site's fields.
  assert.deepEqual(resolveDeflateOptions(site, true), {
    ...DEFAULT_DEFLATE_OPTIONS,
    ...site,
  });
});

test("resolveDeflateOptions() ignores fields given as undefined", () => {
  assert.deepEqual(resolveDeflateOptions({ level: undefined }), DEFAULT_DEFLATE_OPTIONS);
});

test("resolveDeflateOptions() rejects values out of range with a RangeError naming them", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { threshold: -1 },
      /"perMessageDeflate.threshold" must be an integer of at least 0, got the number -1/,
    ],
    [{ threshold: 1.5 }, /"perMessageDeflate.threshold"/],
    [{ level: 10 }, /"perMessageDeflate.level" must be an integer from 0 to 9, got the number 10/],
    [
      { memLevel: 0 },
      /"perMessageDeflate.memLevel" must be an integer from 1 to 9, got the number 0/,
    ],
    [
      { serverMaxWindowBits: 7 },
      /"perMessageDeflate.serverMaxWindowBits" must be an integer from 8 to 15/,
    ],
    [
      { clientMaxWindowBits: 16 },
      /"perMessageDeflate.clientMaxWindowBits" must be an integer from 8 to 15/,
    ],
    [
      { concurrencyLimit: 0 },
      /"perMessageDeflate.concurrencyLimit" must be an integer of at least 1/,
    ],
  ];
  for (const [setting, message] of cases) {
    assert.throws(() => resolveDeflateOptions(setting), (error) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(setting)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

test("resolveDeflateOptions() rejects a wrong type or an unknown option with a TypeError", () => {
  const cases: [unknown, RegExp][] = [
    [
      { serverNoContextTakeover: 1 },
      /"perMessageDeflate.serverNoContextTakeover" must be a boolean, got the number 1/,
    ],
    [
      { level: "6" },
      /"perMessageDeflate.level" must be an integer from 0 to 9, got the string "6"/,
    ],
    [
      { windowBits: 10 },
      /unknown option "perMessageDeflate.windowBits"; the options of "perMessageDeflate" are threshold, level/,
    ],
    [
      { levle: 1 },
      /unknown option "perMessageDeflate.levle" \(did you mean "perMessageDeflate.level"\?\)/,
    ],
    [
      "yes",
      /option "perMessageDeflate" must be a boolean or an object of DeflateOptions, got the string "yes"/,
    ],
    [null, /option "perMessageDeflate" must be a boolean or an object of DeflateOptions, got null/],
    [1, /option "perMessageDeflate" must be a boolean or an object/],
  ];
  for (const [setting, message] of cases) {
    assert.throws(() => resolveDeflateOptions(setting as DeflateSetting), (error) => {
      assert.ok(error instanceof TypeError, `${JSON.stringify(setting)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

test("checkDeflateSetting() names the caller and the option as given", () => {
  checkDeflateSetting("addHandler()", undefined);
  checkDeflateSetting("addHandler()", false);
  checkDeflateSetting("addHandler()", { level: 1, serverNoContextTakeover: true });
  assert.throws(() => checkDeflateSetting("addHandler()", { level: 12 }), {
    name: "RangeError",
    message:
      'addHandler(): option "perMessageDeflate.level" must be an integer from 0 to 9, got the number 12',
  });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_DEFLATE_OPTIONS, resolveDeflateOptions } from "../../src/core/deflate_options.ts";

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
    [{ threshold: -1 }, /"threshold" must be an integer of at least 0, got -1/],
    [{ threshold: 1.5 }, /"threshold"/],
    [{ level: 10 }, /"level" must be an integer from 0 to 9, got 10/],
    [{ memLevel: 0 }, /"memLevel" must be an integer from 1 to 9, got 0/],
    [{ serverMaxWindowBits: 7 }, /"serverMaxWindowBits" must be an integer from 8 to 15, got 7/],
    [{ clientMaxWindowBits: 16 }, /"clientMaxWindowBits" must be an integer from 8 to 15/],
    [{ concurrencyLimit: 0 }, /"concurrencyLimit" must be an integer of at least 1, got 0/],
    [{ serverNoContextTakeover: 1 }, /"serverNoContextTakeover" must be a boolean, got 1/],
    [{ windowBits: 10 }, /Unknown perMessageDeflate option "windowBits"/],
  ];
  for (const [setting, message] of cases) {
    assert.throws(() => resolveDeflateOptions(setting), (error) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(setting)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

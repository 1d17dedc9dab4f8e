/**
 * What CI installs for the tests that need more than npm gives them. A test that cannot run
 * for want of one skips and says why, unless WSPORT_REQUIRE names it (CI sets
 * `WSPORT_REQUIRE=redis,chromium,python`): then a failing test says it is missing, so that
 * a CI run cannot pass with those tests unrun.
 * @module
 */
import process from "node:process";
import { test } from "node:test";

/** Something CI installs with apt-get for the tests that need it. */
export type Requirement = "redis" | "chromium" | "python";

/** The requirements WSPORT_REQUIRE names (comma-separated). */
const required = new Set(
  (process.env.WSPORT_REQUIRE ?? "").split(",").map((name) => name.trim()).filter(Boolean),
);

/**
 * The `skip` option for tests that need `requirement`: `false` when `missing` is empty (it
 * is there), else `missing`, the reason they skip. When WSPORT_REQUIRE names `requirement`
 * and it is missing, it also adds a test that fails with that reason.
 * @example Skip where redis-server is missing
 * ```ts
 * const skip = skipUnless("redis", installed ? false : "redis-server is not installed");
 * test("publishes through Redis", { skip }, async () => {});
 * ```
 */
export function skipUnless(
  requirement: Requirement,
  missing: string | false | undefined,
): string | false {
  if (missing === undefined || missing === false || missing === "") return false;
  if (required.has(requirement)) {
    test(`${requirement} is installed, as WSPORT_REQUIRE says it must be`, () => {
      throw new Error(`WSPORT_REQUIRE names ${requirement}, but ${missing}`);
    });
  }
  return missing;
}

/**
 * What CI installs for the tests that need more than npm gives them. A test that cannot run
 * for want of one skips and says why, unless WSPORT_REQUIRE names it (CI sets
 * `WSPORT_REQUIRE=redis,chromium,python,openssl`): then a failing test says it is missing, so that
 * a CI run cannot pass with those tests unrun.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";

/** Something CI installs with apt-get for the tests that need it. */
export type Requirement = "redis" | "chromium" | "python" | "openssl";

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

/**
 * One thing a test needs from the machine, and what to say when it is not there:
 * - `command`: a program that must start (else `missing`) and exit 0 (else `failing`,
 *   or `missing` when there is no `failing`), run in `cwd` with a 15 s bound;
 * - `file`: a path that must exist;
 * - `module`: a package that must import.
 */
export type Need =
  | { command: readonly string[]; cwd?: string; missing: string; failing?: string }
  | { file: string; missing: string }
  | { module: string; missing: string };

/**
 * Why a test cannot run here: the message of the first need not met, in order, or
 * `undefined` when every one is met. Give its result to {@linkcode skipUnless}.
 * @example Skip where python3-websockets is missing
 * ```ts
 * const skip = skipUnless(
 *   "python",
 *   await unavailable({
 *     command: ["/usr/bin/python3", "-c", "import websockets"],
 *     missing: "/usr/bin/python3 is not installed",
 *     failing: "python3-websockets is not installed",
 *   }),
 * );
 * ```
 */
export async function unavailable(...needs: readonly Need[]): Promise<string | undefined> {
  for (const need of needs) {
    if ("file" in need) {
      if (!existsSync(need.file)) return need.missing;
    } else if ("module" in need) {
      try {
        await import(need.module);
      } catch {
        return need.missing;
      }
    } else {
      const [program, ...args] = need.command;
      const probe = spawnSync(program, args, { cwd: need.cwd, timeout: 15_000 });
      if (probe.error !== undefined) return need.missing;
      if (probe.status !== 0) return need.failing ?? need.missing;
    }
  }
  return undefined;
}

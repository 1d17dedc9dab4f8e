/**
 * Run-time checks of what a caller passes to wsport's entry points, for callers in plain
 * JavaScript: each wrong option throws at the call, with a message naming the option,
 * what it accepts and what it got, rather than failing at the first connection.
 *
 * The rule for the error class: a value of the wrong type, of the right type but a form
 * that can never work (a subprotocol with a space, a route path with `?`), or an unknown
 * option name is a `TypeError`; a number out of its range (or not an integer) is a
 * `RangeError`.
 * @module
 */

/**
 * Describes a value for an error message: `the string "chat"`, `the number 8080`,
 * `an array`, `null`, `a function`.
 *
 * @example
 * ```ts
 * import { describeValue } from "./options.ts";
 * describeValue("chat"); // 'the string "chat"'
 * describeValue([1]); // "an array"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
    case "number":
    case "bigint":
    case "boolean":
      return `the ${typeof value} ${String(value)}${typeof value === "bigint" ? "n" : ""}`;
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `an instance of ${name}`
    : "an object";
}

/**
 * The error for an option of the wrong type or form:
 * `addHandler(): option "protocols" must be an array of strings (tokens), got the string "chat"`.
 *
 * @param caller The entry point, as the message starts: `"addHandler()"`.
 * @param name The option, with its parents: `"perMessageDeflate.level"`.
 * @param expected What it accepts, to follow "must be".
 */
export function optionTypeError(
  caller: string,
  name: string,
  expected: string,
  value: unknown,
): TypeError {
  return new TypeError(
    `${caller}: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

/** The same as {@linkcode optionTypeError}, for a number out of its range. */
export function optionRangeError(
  caller: string,
  name: string,
  expected: string,
  value: unknown,
): RangeError {
  return new RangeError(
    `${caller}: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

/** Whether a value can hold options: an object that is neither `null`, an array nor a function. */
export function isOptionsObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks that `options` is an options object (or `undefined`) with no option outside
 * `known`, and returns it (an empty object for `undefined`).
 *
 * @param what How the object is named in messages: `"options"`, or an option's name
 *   for a nested object (`"perMessageDeflate"`).
 * @throws {TypeError} For a value that is not an object, or an unknown option name (with
 *   the nearest known name, when one is close, and the list of known names).
 *
 * @example
 * ```ts
 * import { checkOptionNames } from "./options.ts";
 * checkOptionNames("serve()", { prot: 8080 }, ["port", "hostname"]);
 * // TypeError: serve(): unknown option "prot" (did you mean "port"?); the options are port, hostname
 * ```
 */
export function checkOptionNames(
  caller: string,
  options: unknown,
  known: readonly string[],
  what = "options",
): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isOptionsObject(options)) {
    throw new TypeError(
      `${caller}: ${what === "options" ? "options" : `option "${what}"`} must be an object, ` +
        `got ${describeValue(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const nearest = nearestName(name, known);
    const prefix = what === "options" ? "" : `${what}.`;
    throw new TypeError(
      `${caller}: unknown option "${prefix}${name}"` +
        (nearest === undefined ? "" : ` (did you mean "${prefix}${nearest}"?)`) +
        `; the ${what === "options" ? "options" : `options of "${what}"`} are ${known.join(", ")}`,
    );
  }
  return options;
}

/**
 * Checks an integer option (`undefined` passes: the default applies).
 *
 * @throws {TypeError} For a value that is not a number.
 * @throws {RangeError} For a number that is not an integer from `min` to `max`.
 */
export function checkInteger(
  caller: string,
  name: string,
  value: unknown,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  const bounds = max === Number.MAX_SAFE_INTEGER
    ? `an integer of at least ${min}`
    : `an integer from ${min} to ${max}`;
  if (typeof value !== "number") throw optionTypeError(caller, name, bounds, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw optionRangeError(caller, name, bounds, value);
  }
}

/**
 * Checks an option of a `typeof` type (`undefined` passes).
 *
 * @throws {TypeError} For a value of another type.
 */
export function checkType(
  caller: string,
  name: string,
  value: unknown,
  type: "boolean" | "string" | "function",
): void {
  if (value === undefined || typeof value === type) return;
  const expected = type === "function" ? "a function" : `a ${type}`;
  throw optionTypeError(caller, name, expected, value);
}

/**
 * The known name nearest to a mistyped one: at most two edits away (a letter added,
 * dropped, changed or two swapped), or the same but for case; else the only one that
 * contains it (`origins` for `allowedOrigins`).
 */
function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || lower.length < 4) return best;
  const containing = known.filter((candidate) => candidate.toLowerCase().includes(lower));
  return containing.length === 1 ? containing[0] : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

// A node:test reporter for tests/run.mjs: one JSON line per finished test, naming its file,
// so the runner can count tests per folder. Suites are left out, as Node's own "# pass" and
// "# fail" leave them out, unless they fail on their own (a failing hook) or skip (their
// tests, never started, would vanish from the count). A result named after its file means
// the file reported no tests of its own (it failed to load, or exited).
export default async function* report(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { name, file, skip, todo, details } = event.data;
    const failed = event.type === "test:fail";
    const failureType = details?.error?.failureType;
    const skipped = [skip, todo].some((flag) => flag !== undefined && flag !== false);
    const counted = skipped || (failed && failureType !== "subtestsFailed");
    if (details?.type === "suite" && !counted) continue;
    const outcome = failed ? "failed" : skipped ? "skipped" : "passed";
    yield JSON.stringify({ file, name, outcome, whole: name === file }) + "\n";
  }
}

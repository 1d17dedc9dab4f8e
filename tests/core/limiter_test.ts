import { test } from "node:test";
import assert from "node:assert/strict";
import { Limiter } from "../../src/core/limiter.ts";

/** A job that settles when told to. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { job: () => promise, open, fail };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

test("Limiter runs at most its limit of jobs at once, the rest in order", async () => {
  const limiter = new Limiter(2);
  const gates = [gate(), gate(), gate(), gate()];
  const started: number[] = [];
  const done = gates.map((each, index) =>
    limiter.run(() => {
      started.push(index);
      return each.job();
    })
  );
  await turn();
  assert.deepEqual(started, [0, 1]);
  assert.equal(limiter.running, 2);
  assert.equal(limiter.waiting, 2);
  gates[1].open();
  await turn();
  assert.deepEqual(started, [0, 1, 2]);
  gates[0].open();
  gates[2].open();
  await turn();
  assert.deepEqual(started, [0, 1, 2, 3]);
  gates[3].open();
  await Promise.all(done);
  assert.equal(limiter.running, 0);
  assert.equal(limiter.waiting, 0);
});

test("Limiter passes results and errors through and frees the turn either way", async () => {
  const limiter = new Limiter(1);
  const failing = gate();
  const failed = limiter.run(failing.job);
  const after = limiter.run(() => Promise.resolve("next"));
  failing.fail(new Error("boom"));
  await assert.rejects(failed, /boom/);
  assert.equal(await after, "next");
  assert.equal(limiter.running, 0);
});

test("Limiter refuses a limit that is not a positive integer", () => {
  for (const limit of [0, -1, 1.5, NaN]) {
    assert.throws(() => new Limiter(limit), RangeError);
  }
});

/**
 * `RedisStreamsBackplane` against a stream in memory: its own messages come back with
 * the `except` they were published with, a batch stored twice is delivered once, a jump
 * in the stream's count is reported with the count lost, messages past the pending bound
 * are dropped and reported by publisher and readers alike, and its options are checked.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type RedisStreamCommands,
  RedisStreamsBackplane,
  type RedisStreamsBackplaneOptions,
  TrimmedError,
} from "../../src/backplane/redis_streams.ts";
import { within } from "../helpers/client.ts";

/** One Redis stream in memory, answering the commands the backplane sends. */
class FakeStream {
  readonly entries: [string, string[]][] = [];
  added = 0;
  #time = 1_000;
  #readers: (() => void)[] = [];
  /** The next EVAL stores its batch, then fails as if the reply were lost. */
  loseNextReply = false;
  /** Entries added but not kept (a trim). */
  skipNext = 0;
  /** While set, every command is refused, as by a Redis that is down. */
  down = false;

  client(): RedisStreamCommands {
    return {
      call: (command) => this.#call(command),
      block: (command) => this.#read(command),
    };
  }

  #call(command: string[]): Promise<unknown> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    if (command[0] === "XINFO") {
      if (this.added === 0) return Promise.reject(new Error("ERR no such key"));
      const last = this.entries.at(-1)?.[0] ?? "0-0";
      return Promise.resolve(["last-generated-id", last, "entries-added", this.added]);
    }
    assert.equal(command[0], "EVAL");
    const trims = Number(command[4]);
    const ids: string[] = [];
    for (const message of command.slice(5 + trims)) {
      const id = `${this.#time}-${this.added}`;
      this.added++;
      ids.push(id);
      if (this.skipNext > 0) this.skipNext--;
      else this.entries.push([id, ["n", String(this.added), "m", message]]);
    }
    this.#readers.splice(0).forEach((wake) => wake());
    if (this.loseNextReply) {
      this.loseNextReply = false;
      return Promise.reject(new Error("Socket closed unexpectedly"));
    }
    return Promise.resolve(ids);
  }

  async #read(command: string[]): Promise<unknown> {
    if (this.down) throw new Error("connect ECONNREFUSED");
    const after = command.at(-1)!;
    const newer = () => this.entries.filter(([id]) => compare(id, after) > 0);
    if (newer().length === 0) {
      await new Promise<void>((resolve) => {
        this.#readers.push(resolve);
        setTimeout(resolve, Number(command[4]));
      });
    }
    const found = newer();
    return found.length === 0 ? null : [["stream", found]];
  }
}

function compare(a: string, b: string): number {
  const [aTime, aSeq] = a.split("-").map(Number);
  const [bTime, bSeq] = b.split("-").map(Number);
  return aTime - bTime || aSeq - bSeq;
}

/** A backplane on `stream` that records what it delivers and reports. */
function member(stream: FakeStream, options: RedisStreamsBackplaneOptions = {}) {
  const received: [string, string | Uint8Array, string, ReadonlySet<unknown> | undefined][] = [];
  const errors: Error[] = [];
  const plane = new RedisStreamsBackplane(stream.client(), {
    probeIntervalMs: 20,
    retryMinMs: 5,
    retryMaxMs: 10,
    ...options,
    onError: (error) => errors.push(error as Error),
  });
  plane.onMessage((topic, data, id, except) => received.push([topic, data, id, except]));
  const until = (what: string, done: () => boolean) =>
    within(
      new Promise<void>((resolve) => {
        const timer = setInterval(() => done() && (clearInterval(timer), resolve()), 2);
      }),
      what,
      3_000,
    );
  return { plane, received, errors, until };
}

test("RedisStreamsBackplane delivers every message in every process in one order, with its id", async () => {
  const stream = new FakeStream();
  const a = member(stream);
  const b = member(stream);
  await a.until("a up", () => a.plane.status === "up");
  await b.until("b up", () => b.plane.status === "up");
  const except = new Set(["sender"]);
  a.plane.publish("room", "one", except);
  b.plane.publish("room", new Uint8Array([1, 2, 255]));
  a.plane.publish("hall", "two");
  await a.until("3 in a", () => a.received.length === 3);
  await b.until("3 in b", () => b.received.length === 3);
  assert.deepEqual(
    a.received.map(([topic, data, id]) => [topic, data, id]),
    b.received.map(([topic, data, id]) => [topic, data, id]),
  );
  assert.deepEqual(a.received[0][3], except, "its own message comes back with its except");
  assert.equal(b.received[0][3], undefined, "another's does not");
  assert.deepEqual(a.errors, []);
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("RedisStreamsBackplane comes back once Redis does, its reading and appending both backing off", async () => {
  const stream = new FakeStream();
  const a = member(stream);
  await a.until("up", () => a.plane.status === "up");
  stream.down = true;
  a.plane.publish("room", "while down");
  await a.until("down", () => a.plane.status === "down");
  await new Promise((resolve) => setTimeout(resolve, 60)); // Both loops wait to try again.
  stream.down = false;
  await a.until("delivered", () => a.received.length === 1);
  assert.equal(a.received[0][1], "while down");
  assert.equal(a.plane.status, "up");
  await a.plane.close();
});

test("RedisStreamsBackplane delivers a batch stored twice once", async () => {
  const stream = new FakeStream();
  const a = member(stream);
  await a.until("up", () => a.plane.status === "up");
  stream.loseNextReply = true;
  a.plane.publish("room", "once");
  a.plane.publish("room", "twice?");
  await a.until("stored twice", () => stream.entries.length === 4);
  a.plane.publish("room", "after");
  await a.until("3 delivered", () => a.received.length === 3);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(a.received.map(([, data]) => data), ["once", "twice?", "after"]);
  assert.match(a.errors[0].message, /Socket closed unexpectedly/);
  await a.plane.close();
});

test("RedisStreamsBackplane reports entries trimmed before it read them, with the count", async () => {
  const stream = new FakeStream();
  const a = member(stream);
  await a.until("up", () => a.plane.status === "up");
  a.plane.publish("room", "1");
  await a.until("1", () => a.received.length === 1);
  stream.skipNext = 2;
  for (const n of ["2", "3", "4"]) a.plane.publish("room", n);
  await a.until("4", () => a.received.length === 2);
  assert.deepEqual(a.received.map(([, data]) => data), ["1", "4"]);
  const [error] = a.errors;
  assert.ok(error instanceof TrimmedError);
  assert.equal(error.after, a.received[0][2]);
  assert.equal(error.until, a.received[1][2]);
  assert.match(error.message, /^Lost 2 messages of stream "wsport:stream" that Redis trimmed/);
  await a.plane.close();
});

test("RedisStreamsBackplane drops past its pending bound, and says so where it drops and where it reads", async () => {
  const stream = new FakeStream();
  const a = member(stream, { maxPendingPublishes: 2 });
  const b = member(stream);
  await a.until("b up", () => b.plane.status === "up");
  // a is not up before its first read: what it publishes waits, up to the bound.
  for (const n of ["1", "2", "3", "4"]) a.plane.publish("room", n);
  assert.match(
    a.errors[0].message,
    /^2 messages \(\d+ bytes\) are waiting for Redis: dropped message 3/,
  );
  await a.until("1 and 2 stored", () => stream.entries.length === 2);
  a.plane.publish("room", "5");
  await b.until("3 in b", () => b.received.length === 3);
  assert.deepEqual(b.received.map(([, data]) => data), ["1", "2", "5"]);
  assert.match(
    b.errors[0].message,
    /^Lost messages 3 to 4 of process .* dropped before Redis stored them/,
  );
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("new RedisStreamsBackplane() checks its commands and options", () => {
  const stream = new FakeStream();
  assert.throws(
    () => new RedisStreamsBackplane({ call: () => Promise.resolve() } as never),
    {
      name: "TypeError",
      message: "new RedisStreamsBackplane(): redis.block must be a function, got undefined",
    },
  );
  const bad: [unknown, RegExp][] = [
    [{ stream: "" }, /option "stream" must be a non-empty string/],
    [
      { retention: { maxLength: 0 } },
      /option "retention.maxLength" must be an integer of at least 1/,
    ],
    [{ retention: { maxLength: 5, maxAgeMs: 5 } }, /option "retention" must be \{ maxLength \}/],
    [{ retention: { maxLength: 5, exact: "yes" } }, /option "retention.exact" must be a boolean/],
    [{ batchSize: 1.5 }, /option "batchSize" must be an integer of at least 1/],
    [{ chanel: "x" }, /unknown option "chanel"/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new RedisStreamsBackplane(stream.client(), options as never), { message });
  }
});

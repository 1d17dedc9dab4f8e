/**
 * `RedisStreamsBackplane` against streams in memory: its own messages come back with
 * the `except` they were published with, a batch stored twice is delivered once, a jump
 * in the stream's count is reported with the count lost, messages past the pending bound
 * are dropped and reported by publisher and readers alike; a process reads only the
 * partitions of its topics (one XREAD for all, or one each when sharded), from their end
 * or from a subscription's `since`; and its options are checked.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type RedisStreamCommands,
  RedisStreamsBackplane,
  type RedisStreamsBackplaneOptions,
} from "../../src/backplane/redis_streams.ts";
import { TrimmedError } from "../../src/backplane/trimmed_error.ts";
import { partitionKey, streamPartition } from "../../src/backplane/stream_partition.ts";
import { within } from "../helpers/client.ts";

/** Redis streams in memory, answering the commands the backplane sends. */
class FakeStream {
  readonly streams = new Map<
    string,
    { entries: [string, string[]][]; added: number; last: string; trimmed: string }
  >();
  /** How many entries were stored, over all streams. */
  stored = 0;
  #time = 1_000;
  /** The readers waiting in XREAD BLOCK, and their connection's id. */
  #waiting = new Set<{ connection: number; wake: () => void }>();
  #connections = 0;
  /** The next EVAL stores its batch, then fails as if the reply were lost. */
  loseNextReply = false;
  /** Entries added but not kept (a trim). */
  skipNext = 0;
  /** While set, every command is refused, as by a Redis that is down. */
  down = false;

  /** Commands on a connection of their own for `block`; `reads` gets the keys of each XREAD. */
  client(reads: string[][] = []): RedisStreamCommands {
    const connection = ++this.#connections;
    return {
      call: (command) => this.#call(command),
      block: (command) => this.#block(connection, command, reads),
    };
  }

  #call(command: string[]): Promise<unknown> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    if (command[0] === "PING") return Promise.resolve("PONG");
    if (command[0] === "CLIENT") {
      for (const reader of this.#waiting) {
        if (reader.connection === Number(command[2])) reader.wake();
      }
      return Promise.resolve(1);
    }
    if (command[0] === "XINFO") {
      const stream = this.streams.get(command[2]);
      if (stream === undefined) return Promise.reject(new Error("ERR no such key"));
      return Promise.resolve([
        ...["last-generated-id", stream.last, "entries-added", stream.added],
        ...["max-deleted-entry-id", stream.trimmed],
      ]);
    }
    assert.equal(command[0], "EVAL");
    const keys = Number(command[2]);
    const key = command[3];
    let stream = this.streams.get(key);
    if (stream === undefined) {
      this.streams.set(key, stream = { entries: [], added: 0, last: "0-0", trimmed: "0-0" });
    }
    const trims = Number(command[3 + keys]);
    const ids: string[] = [];
    for (const message of command.slice(4 + keys + trims)) {
      const id = `${this.#time}-${this.stored++}`;
      stream.added++;
      stream.last = id;
      ids.push(id);
      if (this.skipNext > 0) {
        this.skipNext--;
        stream.trimmed = id;
      } else stream.entries.push([id, ["n", String(stream.added), "m", message]]);
    }
    for (const reader of [...this.#waiting]) reader.wake();
    if (this.loseNextReply) {
      this.loseNextReply = false;
      return Promise.reject(new Error("Socket closed unexpectedly"));
    }
    return Promise.resolve(ids);
  }

  async #block(connection: number, command: string[], reads: string[][]): Promise<unknown> {
    if (this.down) throw new Error("connect ECONNREFUSED");
    if (command[0] === "CLIENT") return connection;
    assert.deepEqual([command[0], command[3], command[5]], ["XREAD", "BLOCK", "STREAMS"]);
    const named = command.slice(6);
    const keys = named.slice(0, named.length / 2);
    const after = named.slice(named.length / 2);
    reads.push(keys);
    const newer = () =>
      keys.map((key, i) =>
        [
          key,
          (this.streams.get(key)?.entries ?? []).filter(([id]) => compare(id, after[i]) > 0),
        ] as const
      ).filter(([, entries]) => entries.length > 0);
    if (newer().length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => reader.wake(), Number(command[4]));
        const reader = {
          connection,
          wake: () => {
            clearTimeout(timer);
            this.#waiting.delete(reader);
            resolve();
          },
        };
        this.#waiting.add(reader);
      });
    }
    const found = newer();
    return found.length === 0 ? null : found;
  }
}

function compare(a: string, b: string): number {
  const [aTime, aSeq] = a.split("-").map(Number);
  const [bTime, bSeq] = b.split("-").map(Number);
  return aTime - bTime || aSeq - bSeq;
}

/**
 * A backplane on `stream` with a subscriber on each of `topics`, that records what it
 * delivers and reports, and the keys of each XREAD it sends.
 */
function member(
  stream: FakeStream,
  options: RedisStreamsBackplaneOptions = {},
  topics = ["room", "hall"],
) {
  const received: [string, string | Uint8Array, string, ReadonlySet<unknown> | undefined][] = [];
  const errors: Error[] = [];
  const reads: string[][] = [];
  const plane = new RedisStreamsBackplane(stream.client(reads), {
    probeIntervalMs: 20,
    retryMinMs: 5,
    retryMaxMs: 10,
    ...options,
    onError: (error) => errors.push(error as Error),
  });
  plane.onMessage((topic, data, id, except) => received.push([topic, data, id, except]));
  for (const topic of topics) plane.subscribe(topic);
  const until = (what: string, done: () => boolean) =>
    within(
      new Promise<void>((resolve) => {
        const timer = setInterval(() => done() && (clearInterval(timer), resolve()), 2);
      }),
      what,
      3_000,
    );
  return { plane, received, errors, reads, until };
}

test("RedisStreamsBackplane delivers every message in every process in one order per topic, with its id", async () => {
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
  for (const topic of ["room", "hall"]) {
    assert.deepEqual(
      a.received.filter((entry) => entry[0] === topic).map(([, data, id]) => [data, id]),
      b.received.filter((entry) => entry[0] === topic).map(([, data, id]) => [data, id]),
    );
  }
  const first = (m: typeof a) => m.received.find(([, data]) => data === "one")!;
  assert.deepEqual(first(a)[3], except, "its own message comes back with its except");
  assert.equal(first(b)[3], undefined, "another's does not");
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
  await a.until("up", () => a.plane.status === "up");
  await a.plane.close();
});

test("RedisStreamsBackplane delivers a batch stored twice once", async () => {
  const stream = new FakeStream();
  const a = member(stream);
  await a.until("up", () => a.plane.status === "up");
  stream.loseNextReply = true;
  a.plane.publish("room", "once");
  a.plane.publish("room", "twice?");
  await a.until("stored twice", () => stream.stored === 4);
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
  assert.match(
    error.message,
    /^Lost 2 messages of stream "wsport:stream:\{\d+\}" that Redis trimmed/,
  );
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
  await a.until("1 and 2 stored", () => stream.stored === 2);
  a.plane.publish("room", "5");
  await b.until("3 in b", () => b.received.length === 3);
  assert.deepEqual(b.received.map(([, data]) => data), ["1", "2", "5"]);
  assert.match(
    b.errors[0].message,
    /^Lost messages 3 to 4 of process .* dropped before Redis stored them/,
  );
  await Promise.all([a.plane.close(), b.plane.close()]);
});

/** `count` topics, each in a partition of its own out of 16. */
function topicsApart(count: number): string[] {
  const topics: string[] = [];
  const used = new Set<number>();
  for (let i = 0; topics.length < count && i < 1_000; i++) {
    const partition = streamPartition(`doc:${i}`, 16);
    if (!used.has(partition)) topics.push(`doc:${i}`);
    used.add(partition);
  }
  return topics;
}

const keyOf = (topic: string) => partitionKey("wsport:stream", streamPartition(topic, 16), 16);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("RedisStreamsBackplane reads and decodes only the partitions that hold its topics", async () => {
  const stream = new FakeStream();
  const [mine, theirs, nobodys] = topicsApart(3);
  const a = member(stream, {}, [mine]);
  const b = member(stream, {}, [theirs]);
  const idle = member(stream, {}, []);
  await a.until("a reads", () => a.reads.length > 0);
  await b.until("b reads", () => b.reads.length > 0);
  await idle.until("idle up", () => idle.plane.status === "up");
  for (const m of [a, b, idle]) {
    for (const topic of [mine, theirs, nobodys]) m.plane.publish(topic, "x");
  }
  await a.until("a's 3", () => a.received.length === 3);
  await b.until("b's 3", () => b.received.length === 3);
  await a.until("all 9 stored", () => stream.stored === 9);
  await sleep(50);
  assert.deepEqual(a.received.map(([topic]) => topic), [mine, mine, mine]);
  assert.deepEqual(b.received.map(([topic]) => topic), [theirs, theirs, theirs]);
  assert.deepEqual(idle.received, [], "nothing decoded without a subscriber");
  assert.deepEqual(new Set(a.reads.flat()), new Set([keyOf(mine)]));
  assert.deepEqual(new Set(b.reads.flat()), new Set([keyOf(theirs)]));
  assert.deepEqual(idle.reads, [], "nothing read without a subscriber");
  for (const m of [a, b, idle]) assert.deepEqual(m.errors, []);
  await Promise.all([a.plane.close(), b.plane.close(), idle.plane.close()]);
});

test("RedisStreamsBackplane stops reading a partition its last topic left, and starts again at its end", async () => {
  const stream = new FakeStream();
  const [topic] = topicsApart(1);
  const a = member(stream, {}, [topic]);
  const b = member(stream, {}, []);
  await a.until("a reads", () => a.reads.length > 0);
  b.plane.publish(topic, "1");
  await a.until("1", () => a.received.length === 1);
  a.plane.unsubscribe(topic);
  b.plane.publish(topic, "2");
  await a.until("2 stored", () => stream.stored === 2);
  await sleep(60); // past the block time: its reader is gone
  const reads = a.reads.length;
  await sleep(60);
  assert.equal(a.reads.length, reads, "no more reads");
  a.plane.subscribe(topic);
  await a.until("reads again", () => a.reads.length > reads);
  b.plane.publish(topic, "3");
  await a.until("3", () => a.received.length === 2);
  assert.deepEqual(a.received.map(([, data]) => data), ["1", "3"]);
  assert.deepEqual(a.errors, [], "what was published while it did not read is no gap");
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("RedisStreamsBackplane reads a partition it starts at once, ending the XREAD BLOCK under way", async () => {
  const stream = new FakeStream();
  const [first, second] = topicsApart(2);
  // A block time far past the wait below: only CLIENT UNBLOCK can end it in time.
  const a = member(stream, { probeIntervalMs: 60_000 }, [first]);
  await a.until("reading", () => a.reads.length > 0);
  a.plane.subscribe(second);
  await a.until("reads both", () => a.reads.some((keys) => keys.length === 2));
  a.plane.publish(second, "now");
  await a.until("delivered", () => a.received.length === 1);
  await a.plane.close();
});

test("RedisStreamsBackplane, sharded: each partition read by a command of its own", async () => {
  const stream = new FakeStream();
  const topics = topicsApart(3);
  const a = member(stream, { sharded: true }, topics);
  await a.until("3 read", () => new Set(a.reads.flat()).size === 3);
  assert.ok(a.reads.every((keys) => keys.length === 1), "one key per XREAD");
  for (const topic of topics) a.plane.publish(topic, topic);
  await a.until("3", () => a.received.length === 3);
  assert.deepEqual(
    a.received.map(([topic, data]) => [topic, data]).sort(),
    topics.map((t) => [t, t]).sort(),
  );
  await a.plane.close();
});

test("RedisStreamsBackplane with one partition keeps one stream at the key it is given", async () => {
  const stream = new FakeStream();
  const a = member(stream, { partitions: 1, stream: "app" }, ["room", "hall"]);
  await a.until("reading", () => a.reads.length > 0);
  a.plane.publish("room", "1");
  a.plane.publish("hall", "2");
  await a.until("2", () => a.received.length === 2);
  assert.deepEqual([...stream.streams.keys()], ["app"]);
  assert.deepEqual(a.received.map(([, data]) => data), ["1", "2"], "one order over all topics");
  await a.plane.close();
});

/** `count` topics all in one partition out of 16. */
function topicsTogether(count: number): string[] {
  const partition = streamPartition("doc:0", 16);
  const topics: string[] = [];
  for (let i = 0; topics.length < count && i < 1_000; i++) {
    if (streamPartition(`doc:${i}`, 16) === partition) topics.push(`doc:${i}`);
  }
  return topics;
}

test("RedisStreamsBackplane.subscribe() since an id starts a partition there, for that topic only", async () => {
  const stream = new FakeStream();
  const [topic, other, third] = topicsTogether(3);
  const b = member(stream, {}, []);
  await b.until("b up", () => b.plane.status === "up");
  for (const [to, data] of [[topic, "1"], [other, "x"], [topic, "2"], [topic, "3"]]) {
    b.plane.publish(to, data);
  }
  await b.until("4 stored", () => stream.stored === 4);
  const since = stream.streams.get(keyOf(topic))!.entries[0][0]; // the id of "1"
  const a = member(stream, {}, []);
  assert.equal(a.plane.subscribe(topic, since), true, "it reads what came after since");
  a.plane.subscribe(other);
  await a.until("2 and 3", () => a.received.length === 2);
  b.plane.publish(other, "y");
  b.plane.publish(topic, "4");
  await a.until("4 in all", () => a.received.length === 4);
  assert.deepEqual(a.received.map(([to, data]) => `${to} ${data}`), [
    `${topic} 2`,
    `${topic} 3`,
    `${other} y`,
    `${topic} 4`,
  ]);
  assert.equal(a.plane.subscribe(third, since), false, "it read the partition only later");
  assert.equal(a.plane.subscribe("x", "not an id"), false);
  assert.deepEqual(a.errors, []);
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("RedisStreamsBackplane.subscribe() since an id Redis trimmed reports the loss", async () => {
  const stream = new FakeStream();
  const [topic] = topicsTogether(1);
  const b = member(stream, {}, []);
  await b.until("b up", () => b.plane.status === "up");
  stream.skipNext = 2;
  for (const data of ["1", "2", "3"]) b.plane.publish(topic, data);
  await b.until("3 stored", () => stream.stored === 3);
  const a = member(stream, {}, []);
  const since = "1000-0"; // the id of "1", trimmed with "2"
  assert.equal(a.plane.subscribe(topic, since), true);
  await a.until("3", () => a.received.length === 1);
  assert.equal(a.received[0][1], "3");
  const [error] = a.errors;
  assert.ok(error instanceof TrimmedError);
  assert.equal(error.after, since);
  assert.match(error.message, /^Lost messages of stream "wsport:stream:\{\d+\}" after id 1000-0/);
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
    [{ partitions: 0 }, /option "partitions" must be an integer from 1 to 16384/],
    [{ sharded: "yes" }, /option "sharded" must be a boolean/],
    [{ chanel: "x" }, /unknown option "chanel"/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new RedisStreamsBackplane(stream.client(), options as never), { message });
  }
});

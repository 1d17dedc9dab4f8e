/**
 * `RedisBackplane` against an in-memory Redis: the message format, origins, text and
 * bytes, probes, going down and coming back, bounded pending publishes, and close.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BackplaneStatus,
  RedisBackplane,
  type RedisBackplaneOptions,
  type RedisPubSub,
} from "../../src/backplane/redis.ts";
import { clusterSlot } from "../../src/backplane/cluster_slot.ts";
import { within } from "../helpers/client.ts";

/** One Redis server in memory: channels, clients, and a switch to stop it. */
class FakeRedis {
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  /** PUBLISH commands received while up. */
  published = 0;
  /** How many SUBSCRIBE commands to refuse next, as an ACL would. */
  refuseSubscribes = 0;
  /** Messages delivered to subscribers, all channels together. */
  deliveries = 0;
  /** SUBSCRIBE and UNSUBSCRIBE commands received while up, with their channels. */
  readonly commands: string[] = [];
  #up = true;
  /** While stopped: `true` leaves commands waiting forever, `false` rejects them. */
  #hang = false;

  /** A client: what a `RedisPubSub` adapter over node-redis would do. */
  client(): RedisPubSub {
    let listener: ((message: string) => void) | undefined;
    const deliver = (message: string) => listener?.(message);
    return {
      publish: (channel, message) =>
        this.#command(() => {
          this.published++;
          const subscribers = [...this.#channels.get(channel) ?? []];
          this.deliveries += subscribers.length;
          setTimeout(() => subscribers.forEach((subscriber) => subscriber(message)), 0);
          return subscribers.length;
        }),
      subscribe: (channels, onMessage) =>
        this.#command(() => {
          if (this.refuseSubscribes > 0 && this.refuseSubscribes--) {
            throw new Error("NOPERM this user has no permissions to access one of the channels");
          }
          this.commands.push(`SUBSCRIBE ${channels.join(" ")}`);
          listener = onMessage;
          for (const channel of channels) this.#subscribers(channel).add(deliver);
        }),
      unsubscribe: (channels) =>
        this.#command(() => {
          this.commands.push(`UNSUBSCRIBE ${channels.join(" ")}`);
          for (const channel of channels) this.#subscribers(channel).delete(deliver);
        }),
    };
  }

  /** How many connections subscribe to `channel`. */
  subscriberCount(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  /** Sends a raw message to the channel's subscribers, as another program might. */
  inject(channel: string, message: string): void {
    for (const subscriber of this.#subscribers(channel)) subscriber(message);
  }

  /** Stops the server: subscriptions are lost, commands fail or hang. */
  stop(hang = false): void {
    this.#up = false;
    this.#hang = hang;
    this.#channels.clear();
  }

  start(): void {
    this.#up = true;
  }

  #subscribers(channel: string): Set<(message: string) => void> {
    let subscribers = this.#channels.get(channel);
    if (subscribers === undefined) this.#channels.set(channel, subscribers = new Set());
    return subscribers;
  }

  #command<T>(run: () => T): Promise<T> {
    if (this.#up) return new Promise((resolve) => resolve(run()));
    if (this.#hang) return new Promise(() => {});
    return Promise.reject(new Error("connect ECONNREFUSED"));
  }
}

/** A backplane that records its statuses, errors and messages. */
function backplane(redis: FakeRedis, options: RedisBackplaneOptions = {}) {
  const statuses: BackplaneStatus[] = [];
  const errors: Error[] = [];
  const received: [string, string | Uint8Array][] = [];
  const waiters: (() => void)[] = [];
  const changed = () => waiters.splice(0).forEach((wake) => wake());
  const plane = new RedisBackplane(redis.client(), {
    probeIntervalMs: 20,
    retryMinMs: 5,
    retryMaxMs: 20,
    // The lifecycle tests share one channel; the interest tests below pass "interest".
    routing: "broadcast",
    ...options,
    onStatus: (status) => {
      statuses.push(status);
      changed();
    },
    onError: (error) => errors.push(error as Error),
  });
  plane.onMessage((topic, data) => {
    received.push([topic, data]);
    changed();
  });
  /** Resolves once `done()` holds, checked at each status or message. */
  const until = (what: string, done: () => boolean) =>
    within(
      new Promise<void>((resolve) => {
        const check = () => done() ? resolve() : waiters.push(check);
        check();
      }),
      what,
    );
  return {
    plane,
    statuses,
    errors,
    received,
    until,
    status: (status: BackplaneStatus) => until(`status ${status}`, () => plane.status === status),
    messages: (count: number) => until(`${count} messages`, () => received.length >= count),
  };
}

test("RedisBackplane carries text and bytes to other processes, never back to its own", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  const b = backplane(redis);
  await Promise.all([a.status("up"), b.status("up")]);
  assert.notEqual(a.plane.origin, b.plane.origin);
  const bytes = new Uint8Array(70_000).map((_, i) => i * 7);
  a.plane.publish("room", "hi");
  a.plane.publish("room", bytes);
  a.plane.publish("a topic\nwith a newline, é", "QUJD");
  a.plane.publish("empty", new Uint8Array(0));
  a.plane.publish("empty", "");
  await b.messages(5);
  assert.deepEqual(b.received, [
    ["room", "hi"],
    ["room", bytes],
    ["a topic\nwith a newline, é", "QUJD"],
    ["empty", new Uint8Array(0)],
    ["empty", ""],
  ]);
  // Sent after a's messages: a would have had its own by the time this arrives.
  b.plane.publish("room", "from b");
  await a.messages(1);
  assert.deepEqual(a.received, [["room", "from b"]]);
  assert.deepEqual([a.errors, b.errors], [[], []]);
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("RedisBackplane reports Redis going down, drops messages meanwhile, and comes back", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  const b = backplane(redis);
  await Promise.all([a.status("up"), b.status("up")]);
  redis.stop();
  await Promise.all([a.status("down"), b.status("down")]);
  const publishedWhileUp = redis.published;
  a.plane.publish("room", "while down");
  assert.equal(redis.published, publishedWhileUp, "nothing is sent, or queued, while down");
  redis.start();
  await Promise.all([a.status("up"), b.status("up")]);
  assert.equal(redis.subscriberCount("wsport"), 2, "each subscribed again, once");
  a.plane.publish("room", "after");
  await b.messages(1);
  assert.deepEqual(b.received, [["room", "after"]]);
  for (const { statuses, errors } of [a, b]) {
    assert.deepEqual(statuses.slice(0, 3), ["up", "down", "up"]);
    assert.ok(errors.length >= 1);
    assert.match(errors[0].message, /ECONNREFUSED|did not echo a probe/);
  }
  await Promise.all([a.plane.close(), b.plane.close()]);
});

test("RedisBackplane subscribes again after a probe is lost, while commands hang", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  const b = backplane(redis);
  await Promise.all([a.status("up"), b.status("up")]);
  redis.stop(true);
  await Promise.all([a.status("down"), b.status("down")]);
  assert.match(a.errors[0].message, /^Redis did not echo a probe within 20 ms on wsport$/);
  await Promise.all([a.plane.close(), b.plane.close()]);
  assert.deepEqual(a.statuses, ["up", "down", "closed"]);
});

test("RedisBackplane keeps at most maxPendingPublishes unanswered, and says so once", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { maxPendingPublishes: 3, probeIntervalMs: 60_000 });
  await a.status("up");
  const before = redis.published;
  redis.stop(true);
  for (let i = 0; i < 6; i++) a.plane.publish("room", `message ${i}`);
  assert.equal(a.errors.length, 1);
  assert.match(a.errors[0].message, /^3 messages \(\d+ bytes\) are waiting for Redis/);
  assert.equal(a.plane.status, "up", "a slow Redis is not taken for a lost one");
  redis.start();
  a.plane.publish("room", "dropped while three still wait");
  assert.equal(redis.published, before);
  await a.plane.close();
});

test("RedisBackplane keeps at most maxPendingBytes unanswered, but sends one larger message", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { maxPendingBytes: 1_000, probeIntervalMs: 60_000 });
  await a.status("up");
  const before = redis.published;
  redis.stop(true);
  a.plane.publish("room", "x".repeat(2_000));
  assert.equal(redis.published - before, 0, "the stopped Redis counts nothing");
  assert.equal(a.errors.length, 0, "a message over the bound goes when nothing waits");
  a.plane.publish("room", "y");
  a.plane.publish("room", new Uint8Array(10));
  assert.equal(a.errors.length, 1);
  assert.match(a.errors[0].message, /^1 messages \(20\d\d bytes\) are waiting for Redis/);
  redis.start();
  await a.plane.close();
});

test("RedisBackplane sends small messages up to maxPendingBytes while Redis is slow", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { maxPendingBytes: 1_000, probeIntervalMs: 60_000 });
  await a.status("up");
  redis.stop(true);
  // Each message is its header (about 60 characters) and 40 of text.
  for (let i = 0; i < 20; i++) a.plane.publish("room", "z".repeat(40));
  assert.equal(a.errors.length, 1);
  const [, count, bytes] = /^(\d+) messages \((\d+) bytes\)/.exec(a.errors[0].message)!;
  assert.ok(Number(bytes) <= 1_000 && Number(bytes) > 1_000 - 110, bytes);
  assert.ok(Number(count) >= 9 && Number(count) < 20, count);
  redis.start();
  await a.plane.close();
});

test("RedisBackplane reports each malformed message on its channel and skips it", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  await a.status("up");
  const malformed: [string, string][] = [
    ["hello", "it has no header line"],
    ["[1]\n", "its header is not [1, origin, kind, topic]"],
    ['[2,"x","t","room"]\nnewer format', "its header is not [1, origin, kind, topic]"],
    ['[1,"x","q","room"]\nunknown kind', 'its kind is not "t", "b" or "p"'],
    ['[1,7,"t","room"]\nno origin', "its origin or topic is not a string"],
    ["{not json\n", "its header is not JSON"],
    ['[1,"x","b","room"]\n***', "its payload is not base64"],
    [`[1,"x","t","room"]${"y".repeat(100)}`, "it has no header line"],
  ];
  for (const [message] of malformed) {
    redis.inject("wsport", message);
    redis.inject("wsport", '[1,"x","t","room"]\nvalid');
  }
  assert.deepEqual(
    a.errors.map((error) => error.message),
    malformed.map(([message, reason]) =>
      `Skipped a malformed message on channel "wsport": ${reason}: ${
        JSON.stringify(message.length > 64 ? `${message.slice(0, 64)}…` : message)
      }`
    ),
  );
  assert.deepEqual(a.received, malformed.map(() => ["room", "valid"]));
  await a.plane.close();
});

test("RedisBackplane reports an error of the site delivering a message, and goes on", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  await a.status("up");
  const delivered: string[] = [];
  a.plane.onMessage((_topic, data) => {
    if (data === "boom") throw new Error("delivery failed");
    delivered.push(data as string);
  });
  for (const text of ["one", "boom", "two"]) redis.inject("wsport", `[1,"x","t","room"]\n${text}`);
  assert.deepEqual(delivered, ["one", "two"]);
  assert.deepEqual(a.errors.map((error) => error.message), ["delivery failed"]);
  await a.plane.close();
});

test("RedisBackplane keeps sites on other channels apart", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { channel: "one" });
  const b = backplane(redis, { channel: "two" });
  const c = backplane(redis, { channel: "two" });
  await Promise.all([a.status("up"), b.status("up"), c.status("up")]);
  a.plane.publish("room", "to one");
  b.plane.publish("room", "to two");
  await c.messages(1);
  assert.deepEqual(c.received, [["room", "to two"]]);
  c.plane.publish("room", "from c");
  await b.messages(1);
  assert.deepEqual(b.received, [["room", "from c"]]);
  assert.deepEqual(a.received, []);
  await Promise.all([a.plane.close(), b.plane.close(), c.plane.close()]);
});

test("RedisBackplane.close() unsubscribes, stops probing and publishing", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis);
  await a.status("up");
  assert.equal(redis.subscriberCount("wsport"), 1);
  await a.plane.close();
  await a.plane.close();
  assert.equal(a.plane.status, "closed");
  assert.equal(redis.subscriberCount("wsport"), 0);
  const published = redis.published;
  a.plane.publish("room", "after close");
  assert.equal(redis.published, published);
  assert.deepEqual(a.statuses, ["up", "closed"]);
});

test("RedisBackplane refuses intervals, backoffs and maximums that are not positive integers", () => {
  const redis = new FakeRedis();
  for (
    const [name, value] of [
      ["probeIntervalMs", 0],
      ["retryMinMs", -1],
      ["retryMaxMs", 1.5],
      ["maxPendingPublishes", Number.NaN],
      ["maxPendingBytes", 0],
    ] as const
  ) {
    assert.throws(() => new RedisBackplane(redis.client(), { [name]: value }), {
      name: "RangeError",
      message: `new RedisBackplane(): option "${name}" must be an integer of at least 1, ` +
        `got the number ${value}`,
    });
  }
});

test("RedisBackplane refuses unknown options, options of the wrong type, and a partial client", () => {
  const redis = new FakeRedis();
  const cases: [unknown, unknown, string][] = [
    [
      redis.client(),
      { chanel: "app" },
      'unknown option "chanel" (did you mean "channel"?); the options are channel, ' +
      "routing, sharded, maxChannelsPerCommand, onResubscribe, " +
      "probeIntervalMs, retryMinMs, retryMaxMs, maxPendingPublishes, maxPendingBytes, " +
      "onStatus, onError",
    ],
    [
      redis.client(),
      { routing: "topic" },
      'option "routing" must be "interest" or "broadcast", got the string "topic"',
    ],
    [
      redis.client(),
      { routing: "broadcast", sharded: true },
      'option "sharded" needs routing "interest"',
    ],
    [
      redis.client(),
      { channel: "" },
      'option "channel" must be a non-empty string, got the string ""',
    ],
    [
      redis.client(),
      { channel: 7 },
      'option "channel" must be a non-empty string, got the number 7',
    ],
    [
      redis.client(),
      { probeIntervalMs: "2000" },
      'option "probeIntervalMs" must be an integer of at least 1, got the string "2000"',
    ],
    [
      redis.client(),
      { onError: "log" },
      'option "onError" must be a function, got the string "log"',
    ],
    [redis.client(), "app", 'options must be an object, got the string "app"'],
    [
      { ...redis.client(), subscribe: undefined },
      {},
      "redis.subscribe must be a function, got undefined",
    ],
    [undefined, {}, "redis.publish must be a function, got undefined"],
  ];
  for (const [client, options, message] of cases) {
    assert.throws(
      () => new RedisBackplane(client as RedisPubSub, options as RedisBackplaneOptions),
      { name: "TypeError", message: `new RedisBackplane(): ${message}` },
      message,
    );
  }
});

/** Resolves once `done()` holds, checked every millisecond, failing after the bound. */
function eventually(what: string, done: () => boolean): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => done() ? resolve() : setTimeout(check, 1);
      check();
    }),
    what,
  );
}

test("RedisBackplane routes a topic only to the processes with a subscriber for it", async () => {
  const redis = new FakeRedis();
  const [a, b, c] = [0, 1, 2].map(() => backplane(redis, { routing: "interest" }));
  await Promise.all([a, b, c].map((member) => member.status("up")));
  b.plane.subscribe("room");
  await eventually("b subscribed", () => redis.subscriberCount("wsport:room") === 1);
  const before = { published: redis.published, deliveries: redis.deliveries };
  a.plane.publish("nobody", "lost in the void");
  for (let i = 0; i < 3; i++) a.plane.publish("room", `${i}`);
  await b.messages(3);
  assert.deepEqual(b.received, [["room", "0"], ["room", "1"], ["room", "2"]]);
  assert.deepEqual(c.received, [], "c, with no subscriber, decodes nothing");
  assert.deepEqual(a.received, []);
  // Probes go on each process's own channel, so count only what a published.
  const published = redis.published - before.published;
  const probes = published - 4;
  assert.ok(probes >= 0);
  assert.equal(redis.deliveries - before.deliveries, 3 + probes, "one delivery per message to b");
  b.plane.unsubscribe("room");
  await eventually("b unsubscribed", () => redis.subscriberCount("wsport:room") === 0);
  assert.deepEqual([a.errors, b.errors, c.errors], [[], [], []]);
  await Promise.all([a, b, c].map((member) => member.plane.close()));
});

test("RedisBackplane batches a storm of joins and leaves into a few commands", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { routing: "interest", maxChannelsPerCommand: 1_000 });
  await a.status("up");
  redis.commands.length = 0;
  for (let i = 0; i < 2_500; i++) a.plane.subscribe(`user:${i}`);
  // Joined and left in the same turn: no command at all.
  a.plane.subscribe("fleeting");
  a.plane.unsubscribe("fleeting");
  await eventually(
    "subscribed",
    () => a.plane.interest.changing === 0 && redis.commands.length === 3,
  );
  assert.deepEqual(redis.commands.map((command) => command.split(" ").length - 1), [
    1_000,
    1_000,
    500,
  ]);
  assert.ok(redis.commands.every((command) => command.startsWith("SUBSCRIBE wsport:user:")));
  assert.deepEqual(a.plane.interest, {
    topics: 2_500,
    channels: 2_500,
    subscribed: 2_500,
    changing: 0,
  });
  for (let i = 0; i < 2_500; i++) a.plane.unsubscribe(`user:${i}`);
  await eventually("unsubscribed", () => redis.commands.length === 6);
  assert.ok(redis.commands.slice(3).every((command) => command.startsWith("UNSUBSCRIBE ")));
  // The interest set holds nothing once the last subscriber left.
  assert.deepEqual(a.plane.interest, { topics: 0, channels: 0, subscribed: 0, changing: 0 });
  assert.equal(redis.subscriberCount("wsport:user:7"), 0);
  await a.plane.close();
});

test("RedisBackplane subscribes again to every topic after an outage, in batches, with progress", async () => {
  const redis = new FakeRedis();
  const progress: [number, number][] = [];
  const a = backplane(redis, {
    routing: "interest",
    maxChannelsPerCommand: 1_000,
    onResubscribe: (done, total) => progress.push([done, total]),
  });
  const b = backplane(redis, { routing: "interest" });
  await Promise.all([a.status("up"), b.status("up")]);
  for (let i = 0; i < 2_500; i++) a.plane.subscribe(`doc:${i}`);
  await eventually("subscribed", () => redis.subscriberCount("wsport:doc:2499") === 1);
  progress.length = 0;
  redis.stop();
  await a.status("down");
  a.plane.subscribe("joined while down");
  a.plane.unsubscribe("doc:0");
  redis.start();
  await a.until("up again", () => a.statuses.filter((status) => status === "up").length === 2);
  assert.deepEqual(progress.map(([, total]) => total), [2_500, 2_500, 2_500]);
  assert.deepEqual(progress.map(([done]) => done).sort((x, y) => x - y), [1_000, 2_000, 2_500]);
  assert.equal(redis.subscriberCount("wsport:doc:2499"), 1);
  assert.equal(redis.subscriberCount("wsport:joined while down"), 1);
  assert.equal(redis.subscriberCount("wsport:doc:0"), 0);
  await b.status("up");
  b.plane.publish("doc:1", "after");
  await a.messages(1);
  assert.deepEqual(a.received, [["doc:1", "after"]]);
  await Promise.all([a.plane.close(), b.plane.close()]);
  assert.equal(redis.subscriberCount("wsport:doc:1"), 0, "close() unsubscribes every channel");
});

test("RedisBackplane, sharded, sends each command the channels of one slot, and probes 16", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { sharded: true, routing: "interest" });
  await a.status("up");
  const probes = redis.commands.filter((command) => command.includes("!"));
  assert.equal(probes.length, 16);
  const probeSlots = probes.map((command) => clusterSlot(command.split(" ")[1]) >> 10);
  assert.deepEqual(probeSlots, [...Array(16).keys()], "one probe per sixteenth of the slots");
  redis.commands.length = 0;
  for (let i = 0; i < 300; i++) a.plane.subscribe(`t${i}`);
  await eventually(
    "subscribed",
    () => a.plane.interest.subscribed === 300 && a.plane.interest.changing === 0,
  );
  await eventually("answered", () => redis.subscriberCount("wsport:t299") === 1);
  for (const command of redis.commands) {
    const slots = new Set(command.split(" ").slice(1).map(clusterSlot));
    assert.equal(slots.size, 1, command);
  }
  assert.equal(a.plane.publish("t1", "x"), undefined);
  assert.deepEqual(a.errors, []);
  await a.plane.close();
});

test("RedisBackplane reports a refused SUBSCRIBE and sends it again after the next probe", async () => {
  const redis = new FakeRedis();
  const a = backplane(redis, { routing: "interest" });
  await a.status("up");
  redis.refuseSubscribes = 1;
  a.plane.subscribe("room");
  await eventually("the refusal reported", () => a.errors.length === 1);
  assert.match(a.errors[0].message, /^NOPERM/);
  await eventually("subscribed on retry", () => redis.subscriberCount("wsport:room") === 1);
  assert.equal(a.plane.status, "up", "one refused channel does not take the backplane down");
  assert.deepEqual(a.plane.interest, { topics: 1, channels: 1, subscribed: 1, changing: 0 });
  await a.plane.close();
});

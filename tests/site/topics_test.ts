/**
 * Topics without a network: the index, delivery order, `except`, the backplane hand-off,
 * the shared frame and the slow-reader check, through sessions over fake links.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CloseInfo } from "../../src/core/connection.ts";
import type { Backplane } from "../../src/site/backplane.ts";
import { WebSocketHandler } from "../../src/site/handler.ts";
import type { Link, NativePubSub } from "../../src/site/link.ts";
import { PreparedMessage, toMessage } from "../../src/site/message.ts";
import type { Session } from "../../src/site/session.ts";
import { siteInternals } from "../../src/site/internals.ts";
import { type SiteOptions, WebSocketSite } from "../../src/site/site.ts";
import { type Subscriber, Topics } from "../../src/site/topics.ts";
import { hex, toHex } from "../helpers/frames.ts";

const CLOSED: CloseInfo = { code: 1000, reason: "", wasClean: true };

/** A link as a native adapter has it: messages only, no shared frames. */
class NativeLike implements Link {
  readonly sent: (string | Uint8Array)[] = [];
  terminated: { code: number; reason: string } | undefined;
  bufferedAmount = 0;
  isOpen = true;

  send(data: string | Uint8Array): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
  }
  ping(): boolean {
    return true;
  }
  close(): void {
    this.isOpen = false;
  }
  terminate(code: number, reason: string): void {
    this.isOpen = false;
    this.terminated = { code, reason };
  }
}

/** A link as the raw-socket adapter has it: shared frames too. */
class FramingLike extends NativeLike {
  readonly frames: Uint8Array[] = [];

  sendFrame(frame: Uint8Array): void {
    this.frames.push(frame);
    this.bufferedAmount += frame.length;
  }
}

/** A runtime's pub/sub in memory: it sends to its subscribed links, and logs each publish. */
class FakePubSub implements NativePubSub {
  readonly published: string[] = [];
  readonly #members = new Map<string, Set<Link>>();

  subscribe(link: Link, topic: string): void {
    if (!this.#members.has(topic)) this.#members.set(topic, new Set());
    this.#members.get(topic)!.add(link);
  }
  unsubscribe(link: Link, topic: string): void {
    this.#members.get(topic)?.delete(link);
  }
  publish(topic: string, data: string | Uint8Array, except?: Link): void {
    this.published.push(`${topic} ${data}${except === undefined ? "" : " but one"}`);
    for (const link of this.#members.get(topic) ?? []) if (link !== except) link.send(data);
  }
  /** The topics a link is subscribed to. */
  topicsOf(link: Link): string[] {
    return [...this.#members].filter(([, links]) => links.has(link)).map(([topic]) => topic);
  }
}

/** A link a runtime's pub/sub reaches. */
class PubSubLike extends NativeLike {
  readonly pubsub: FakePubSub;

  constructor(pubsub: FakePubSub) {
    super();
    this.pubsub = pubsub;
  }
}

/** A site with one route, `/t`, and a way to open sessions on fake links. */
function siteWith(options: SiteOptions = {}) {
  const site = new WebSocketSite(undefined, options);
  site.addHandler("/t", WebSocketHandler, { limits: { maxSendBufferBytes: 100 } });
  const open = (link: Link = new NativeLike()): Session => openOn(site, link);
  return { site, open };
}

/** Opens a session on `/t` of a site over a fake link, as an adapter does after an upgrade. */
function openOn(site: WebSocketSite, link: Link): Session {
  return siteInternals(site).open({
    link,
    request: new Request("http://localhost/t"),
    decision: {
      kind: "accept",
      route: siteInternals(site).routes.get("/t")!,
      acceptance: { key: "", protocol: "", extensions: "" },
      data: undefined,
    },
    remoteAddress: undefined,
  });
}

/** A link for the index's own tests, where no one sends through it. */
const aLink: Link = new NativeLike();

/** A subscriber that records what it was sent under a name. */
function recorder(log: string[], name: string, onWrite?: () => void): Subscriber {
  return {
    writePrepared(message) {
      log.push(`${name}:${message.data}`);
      onWrite?.();
      return true;
    },
    sentNatively() {},
  };
}

test("Topics.publish() reaches each subscriber of the topic once, in subscription order", () => {
  const topics = new Topics(undefined, () => {});
  const log: string[] = [];
  const [a, b, c] = ["a", "b", "c"].map((name) => recorder(log, name));
  topics.add("news", b, aLink);
  topics.add("news", a, aLink);
  topics.add("news", b, aLink);
  topics.add("sport", c, aLink);
  topics.publish("news", "one");
  topics.publish("weather", "lost");
  assert.deepEqual(log, ["b:one", "a:one"]);
  assert.equal(topics.count("news"), 2);
  assert.equal(topics.count("weather"), 0);
});

test("Topics.publish() skips the subscribers in except", () => {
  const topics = new Topics(undefined, () => {});
  const log: string[] = [];
  const [a, b, c] = ["a", "b", "c"].map((name) => recorder(log, name));
  for (const subscriber of [a, b, c]) topics.add("t", subscriber, aLink);
  topics.publish("t", "x", new Set([a, c]));
  assert.deepEqual(log, ["b:x"]);
});

test("Topics.delete() removes a subscriber, and the topic with its last one", () => {
  const topics = new Topics(undefined, () => {});
  const log: string[] = [];
  const a = recorder(log, "a");
  topics.add("t", a, aLink);
  topics.delete("t", a);
  topics.delete("t", a);
  topics.delete("never", a);
  topics.publish("t", "x");
  assert.deepEqual(log, []);
  assert.equal(topics.count("t"), 0);
});

test("Topics.publish() made during a delivery waits, so every subscriber sees one order", () => {
  const topics = new Topics(undefined, () => {});
  const log: string[] = [];
  let nested = false;
  const a = recorder(log, "a", () => {
    if (nested) return;
    nested = true;
    topics.publish("t", "second");
    log.push("published second");
  });
  const b = recorder(log, "b");
  topics.add("t", a, aLink);
  topics.add("t", b, aLink);
  topics.publish("t", "first");
  assert.deepEqual(log, ["a:first", "published second", "b:first", "a:second", "b:second"]);
});

test("Topics.publish() delivers again after a subscriber threw in an earlier delivery", () => {
  const topics = new Topics(undefined, () => {});
  const log: string[] = [];
  topics.add("t", {
    writePrepared() {
      throw new Error("boom");
    },
    sentNatively() {},
  }, aLink);
  assert.throws(() => topics.publish("t", "x"), /boom/);
  topics.add("u", recorder(log, "a"), aLink);
  topics.publish("u", "y");
  assert.deepEqual(log, ["a:y"]);
});

test("Topics rejects a topic that is not a string with a TypeError", () => {
  const topics = new Topics(undefined, () => {});
  const a = recorder([], "a");
  for (
    const call of [
      () => topics.add(1 as unknown as string, a, aLink),
      () => topics.delete(undefined as unknown as string, a),
      () => topics.publish({} as unknown as string, "x"),
    ]
  ) {
    assert.throws(call, { name: "TypeError", message: "A topic must be a string" });
  }
});

/** A backplane that records what it is given and lets the test deliver messages. */
function fakeBackplane(throwing = false) {
  const published: [string, string | Uint8Array][] = [];
  let deliver: ((topic: string, data: string | Uint8Array) => void) | undefined;
  const backplane: Backplane = {
    publish(topic, data) {
      if (throwing) throw new Error("backplane down");
      published.push([topic, data]);
    },
    onMessage(listener) {
      deliver = listener;
    },
  };
  return {
    backplane,
    published,
    deliver: (topic: string, data: string | Uint8Array) => deliver!(topic, data),
  };
}

test("Topics forwards each publish to the backplane, after delivering it here", () => {
  const { backplane, published } = fakeBackplane();
  const topics = new Topics(backplane, () => {});
  const log: string[] = [];
  topics.add("t", recorder(log, "a", () => log.push(`backplane had ${published.length}`)), aLink);
  const bytes = new Uint8Array([1, 2]);
  topics.publish("t", "x");
  topics.publish("empty", bytes);
  assert.deepEqual(log, ["a:x", "backplane had 0"]);
  assert.deepEqual(published, [["t", "x"], ["empty", bytes]]);
  assert.equal(published[1][1], bytes);
});

test("Topics delivers the backplane's messages to every local subscriber", () => {
  const { backplane, published, deliver } = fakeBackplane();
  const topics = new Topics(backplane, () => {});
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  topics.add("t", recorder(log, "b"), aLink);
  deliver("t", "from afar");
  deliver("other", "nobody");
  assert.deepEqual(log, ["a:from afar", "b:from afar"]);
  assert.deepEqual(published, [], "a message from the backplane is not sent back");
});

test("Topics reports a backplane that throws, and local delivery goes on", () => {
  const { backplane } = fakeBackplane(true);
  const errors: unknown[] = [];
  const topics = new Topics(backplane, (error) => errors.push(error));
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  topics.publish("t", "x");
  assert.deepEqual(log, ["a:x"]);
  assert.equal((errors[0] as Error).message, "backplane down");
});

test("Topics tells the backplane when a topic gets its first subscriber and loses its last", () => {
  const interest: string[] = [];
  const backplane: Backplane = {
    publish() {},
    onMessage() {},
    subscribe: (topic) => interest.push(`+${topic}`),
    unsubscribe: (topic) => interest.push(`-${topic}`),
  };
  const topics = new Topics(backplane, () => {});
  const [a, b] = [recorder([], "a"), recorder([], "b")];
  topics.add("t", a, aLink);
  topics.add("t", b, aLink);
  topics.add("t", a, aLink);
  topics.add("u", a, aLink);
  topics.delete("t", a);
  topics.delete("t", a);
  assert.deepEqual(interest, ["+t", "+u"]);
  topics.delete("t", b);
  topics.delete("u", a);
  topics.delete("never", a);
  assert.deepEqual(interest, ["+t", "+u", "-t", "-u"]);
});

test("Topics reports a backplane whose subscribe() throws, and subscribes all the same", () => {
  const errors: unknown[] = [];
  const backplane: Backplane = {
    publish() {},
    onMessage() {},
    subscribe: () => {
      throw new Error("no interest");
    },
  };
  const topics = new Topics(backplane, (error) => errors.push(error));
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  topics.publish("t", "x");
  assert.deepEqual(log, ["a:x"]);
  assert.equal((errors[0] as Error).message, "no interest");
});

/** An ordered backplane (as `RedisStreamsBackplane`) whose messages the test delivers, with ids. */
function orderedBackplane() {
  let deliver: ((topic: string, data: string | Uint8Array, id?: string) => void) | undefined;
  const backplane: Backplane = {
    ordered: true,
    publish() {},
    onMessage(listener) {
      deliver = listener;
    },
  };
  return {
    backplane,
    deliver: (topic: string, data: string, id: string) => deliver!(topic, data, id),
  };
}

test("Topics.add() since an id not read here yet: messages up to it are not sent, later ones once", () => {
  // A client saw 5-3 through a process that read the stream faster, and comes back here.
  const { backplane, deliver } = orderedBackplane();
  const topics = new Topics(backplane, () => {});
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  deliver("t", "m1", "5-1");
  deliver("t", "m2", "5-2");
  assert.equal(topics.add("t", recorder(log, "b"), aLink, "5-3"), true, "nothing missing");
  deliver("t", "m3", "5-3");
  deliver("t", "m4", "5-4");
  deliver("t", "m5", "5-5");
  assert.deepEqual(log, ["a:m1", "a:m2", "a:m3", "a:m4", "b:m4", "a:m5", "b:m5"]);
});

test("Topics.add() since an id in the window replays what followed, then live ones, each once", () => {
  const { backplane, deliver } = orderedBackplane();
  const topics = new Topics(backplane, () => {});
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  for (const n of [1, 2, 3]) deliver("t", `m${n}`, `5-${n}`);
  assert.equal(topics.add("t", recorder(log, "b"), aLink, "5-1"), true);
  deliver("t", "m4", "5-4");
  assert.deepEqual(log.filter((line) => line.startsWith("b:")), ["b:m2", "b:m3", "b:m4"]);
});

test("Topics.add() since an id during that message's delivery: replayed, not sent again", () => {
  const topics = new Topics(undefined, () => {}, { encode: (data, id) => `${id} ${data}` });
  const log: string[] = [];
  const b = recorder(log, "b");
  let seen = "";
  const a: Subscriber = {
    writePrepared(message) {
      log.push(`a:${message.data}`);
      // b comes back, since the last id it saw, while this message goes out.
      if (String(message.data).endsWith(" m2")) topics.add("t", b, aLink, seen);
      return true;
    },
    sentNatively() {},
  };
  topics.add("t", a, aLink);
  topics.add("t", b, aLink);
  topics.publish("t", "m1");
  seen = String(log.at(-1)).slice(2).split(" ")[0];
  topics.delete("t", b);
  topics.publish("t", "m2");
  topics.publish("t", "m3");
  const got = log.filter((line) => line.startsWith("b:")).map((line) => line.split(" ")[1]);
  assert.deepEqual(got, ["m1", "m2", "m3"]);
});

test("Topics.add() since an id this process never gave says so, replays nothing, holds nothing back", () => {
  const topics = new Topics(undefined, () => {}, { encode: (data, id) => `${id} ${data}` });
  const log: string[] = [];
  topics.add("t", recorder(log, "a"), aLink);
  topics.publish("t", "m1");
  const [epoch, seq] = String(log[0]).slice(2).split(" ")[0].split("-").map(Number);
  for (const since of [`${epoch + 1}-0`, `${epoch}-${seq + 1}`, `${epoch - 1}-5`, "junk"]) {
    assert.equal(topics.add("t", recorder(log, since), aLink, since), false, since);
  }
  topics.publish("t", "m2");
  assert.equal(log.filter((line) => line.endsWith(" m2")).length, 5, "every subscriber got m2");
  assert.equal(log.filter((line) => line.endsWith(" m1")).length, 1, "m1 went to a only");
});

test("A floor holding a message back sends it around the native pub/sub; once passed, through it", () => {
  const { backplane, deliver } = orderedBackplane();
  const { site, open } = siteWith({ backplane });
  const pubsub = new FakePubSub();
  const links = [new PubSubLike(pubsub), new PubSubLike(pubsub)];
  const [a, b] = links.map((link) => open(link));
  a.subscribe("t");
  deliver("t", "m1", "5-1");
  b.subscribe("t", { since: "5-2" });
  deliver("t", "m2", "5-2");
  deliver("t", "m3", "5-3");
  const natively = pubsub.published.map((line) => line.split(" ")[1]);
  assert.deepEqual(natively, ["m1", "m3"], "m2 went to a alone, around the native pub/sub");
  assert.deepEqual(links.map((link) => link.sent), [["m1", "m2", "m3"], ["m3"]]);
  assert.equal(site.subscriberCount("t"), 2);
});

test("Topics.add() since an id, back on a topic a backplane routes by interest: messages may be missing", () => {
  const { backplane } = fakeBackplane();
  const routed: Backplane = { ...backplane, subscribe() {}, unsubscribe() {} };
  for (
    const [name, plane, expected] of [["by interest", routed, false], [
      "all",
      backplane,
      true,
    ]] as const
  ) {
    const topics = new Topics(plane, () => {}, { encode: (data, id) => `${id} ${data}` });
    const log: string[] = [];
    const a = recorder(log, "a");
    topics.add("t", a, aLink);
    topics.publish("t", "m1");
    const seen = String(log[0]).slice(2).split(" ")[0];
    // Alone here, a leaves: while the topic has no subscriber, other processes' messages
    // on it do not come here when the backplane routes by interest.
    topics.delete("t", a);
    topics.publish("t", "m2");
    assert.equal(topics.add("t", a, aLink, seen), expected, name);
    assert.deepEqual(log.map((line) => line.split(" ")[1]), ["m1", "m2"], name);
  }
});

test("Topics.add() since an id, first here, on a log-keeping backplane: it answers for what follows", () => {
  // As RedisStreamsBackplane: a topic's first subscriber `since` an id makes it read the
  // topic from there (true), unless it has read it only from a later id (false).
  const { backplane, deliver } = orderedBackplane();
  const asked: [string, string | undefined][] = [];
  let answer = true;
  const routed: Backplane = {
    ...backplane,
    subscribe(topic, since) {
      asked.push([topic, since]);
      return answer;
    },
    unsubscribe() {},
  };
  const topics = new Topics(routed, () => {});
  const log: string[] = [];
  assert.equal(topics.add("t", recorder(log, "a"), aLink, "7-2"), true, "the backplane catches up");
  assert.deepEqual(asked, [["t", "7-2"]]);
  for (const n of [3, 4]) deliver("t", `m${n}`, `7-${n}`);
  assert.deepEqual(log, ["a:m3", "a:m4"]);
  assert.equal(topics.add("t", recorder(log, "b"), aLink, "7-3"), true, "in the window since");
  assert.equal(topics.add("t", recorder(log, "c"), aLink, "7-1"), false, "before the catch-up");
  assert.deepEqual(log.slice(2), ["b:m4", "c:m3", "c:m4"], "what is kept, either way");
  answer = false;
  assert.equal(topics.add("u", recorder(log, "d"), aLink, "7-2"), false, "read from later on");
});

test("PreparedMessage.frame is one unmasked frame, built once", () => {
  const text = new PreparedMessage("Hello");
  assert.equal(toHex(text.frame), "81 05 48 65 6c 6c 6f");
  assert.equal(text.frame, text.frame);
  const binary = new PreparedMessage(new Uint8Array(300).fill(7));
  assert.equal(toHex(binary.frame.subarray(0, 5)), "82 7e 01 2c 07");
  assert.equal(binary.frame.length, 304);
  assert.equal(toHex(new PreparedMessage("").frame), "81 00");
  assert.equal(toHex(new PreparedMessage("é").frame), toHex(hex("81 02 c3 a9")));
});

test("toMessage() passes strings and Uint8Arrays, wraps ArrayBuffers, refuses the rest", () => {
  const bytes = new Uint8Array([1]);
  assert.equal(toMessage("x", "write()"), "x");
  assert.equal(toMessage(bytes, "write()"), bytes);
  assert.deepEqual(toMessage(new Uint8Array([5, 6]).buffer, "write()"), new Uint8Array([5, 6]));
  assert.throws(() => toMessage(42 as unknown as string, "publish()"), {
    name: "TypeError",
    message: "publish() takes a string, a Uint8Array or an ArrayBuffer",
  });
});

test("site.publish() sends links that frame the shared frame, and the others the message", () => {
  const { site, open } = siteWith();
  const framing = [new FramingLike(), new FramingLike()];
  const native = new NativeLike();
  for (const link of [...framing, native]) open(link).subscribe("t");
  site.publish("t", "hi");
  site.publish("t", new Uint8Array([9]).buffer);
  assert.deepEqual(native.sent, ["hi", new Uint8Array([9])]);
  assert.deepEqual(framing[0].sent, []);
  assert.equal(toHex(framing[0].frames[0]), "81 02 68 69");
  assert.equal(toHex(framing[0].frames[1]), "82 01 09");
  assert.equal(framing[0].frames[0], framing[1].frames[0], "the very same bytes");
});

test("site.publish() with except skips one transport or a list of them", () => {
  const { site, open } = siteWith();
  const links = [new NativeLike(), new NativeLike(), new NativeLike()];
  const sessions = links.map((link) => open(link));
  for (const session of sessions) session.subscribe("t");
  site.publish("t", "one", { except: sessions[0] });
  site.publish("t", "two", { except: [sessions[0], sessions[2]] });
  site.publish("t", "three", { except: [] });
  assert.deepEqual(links.map((link) => link.sent), [
    ["three"],
    ["one", "two", "three"],
    ["one", "three"],
  ]);
});

test("transport.publish() reaches every subscriber but its sender", () => {
  const { open } = siteWith();
  const links = [new NativeLike(), new NativeLike()];
  const [a, b] = links.map((link) => open(link));
  a.subscribe("t");
  b.subscribe("t");
  a.publish("t", "from a");
  const c = open();
  c.publish("t", "from c, not subscribed");
  assert.deepEqual(links.map((link) => link.sent), [
    ["from c, not subscribed"],
    ["from a", "from c, not subscribed"],
  ]);
});

test("transport.subscribe(), unsubscribe() and isSubscribed() keep the site's count", () => {
  const { site, open } = siteWith();
  const a = open();
  assert.equal(a.isSubscribed("t"), false);
  a.subscribe("t");
  a.subscribe("t");
  assert.equal(a.isSubscribed("t"), true);
  assert.equal(site.subscriberCount("t"), 1);
  a.unsubscribe("t");
  a.unsubscribe("t");
  assert.equal(a.isSubscribed("t"), false);
  assert.equal(site.subscriberCount("t"), 0);
  assert.throws(() => a.subscribe(7 as unknown as string), TypeError);
});

test("A closed session is unsubscribed from every topic, and cannot subscribe again", () => {
  const { site, open } = siteWith();
  const link = new NativeLike();
  const a = open(link);
  a.subscribe("t");
  a.subscribe("u");
  a.closed(CLOSED);
  assert.equal(site.subscriberCount("t"), 0);
  assert.equal(site.subscriberCount("u"), 0);
  assert.equal(a.isSubscribed("t"), false);
  a.subscribe("t");
  assert.equal(site.subscriberCount("t"), 0);
  site.publish("t", "after");
  assert.deepEqual(link.sent, []);
});

test("A closing session is unsubscribed at once and sent nothing", () => {
  const { site, open } = siteWith();
  const link = new NativeLike();
  const a = open(link);
  a.subscribe("t");
  a.close();
  assert.equal(site.subscriberCount("t"), 0);
  assert.equal(a.isSubscribed("t"), false);
  site.publish("t", "late");
  assert.deepEqual(link.sent, []);
  assert.equal(a.writePrepared(new PreparedMessage("x")), false);
});

test("site.publish() goes through a native pub/sub that reaches every subscriber", () => {
  const { site, open } = siteWith();
  const pubsub = new FakePubSub();
  const links = [new PubSubLike(pubsub), new PubSubLike(pubsub)];
  const [a, b] = links.map((link) => open(link));
  a.subscribe("t");
  b.subscribe("t");
  const [topic] = pubsub.topicsOf(links[0]);
  assert.match(topic, /^wsport\d+:t$/);
  site.publish("t", "all");
  site.publish("t", "not a", { except: a });
  b.publish("t", "from b");
  site.publish("t", "not b, and one not subscribed", { except: [b, open()] });
  assert.deepEqual(pubsub.published, [
    `${topic} all`,
    `${topic} not a but one`,
    `${topic} from b but one`,
    `${topic} not b, and one not subscribed but one`,
  ]);
  assert.deepEqual(links.map((link) => link.sent), [
    ["all", "from b", "not b, and one not subscribed"],
    ["all", "not a"],
  ]);
});

test("site.publish() sends each subscriber its own where no one native pub/sub reaches all", () => {
  const { site, open } = siteWith();
  const [one, two] = [new FakePubSub(), new FakePubSub()];
  const links = [new PubSubLike(one), new PubSubLike(one), new PubSubLike(two), new NativeLike()];
  const sessions = links.map((link) => open(link));
  for (const session of sessions.slice(0, 2)) session.subscribe("pair");
  for (const session of sessions) session.subscribe("mixed");
  site.publish("mixed", "each");
  site.publish("pair", "native");
  site.publish("pair", "neither", { except: sessions.slice(0, 2) });
  assert.deepEqual(one.published.map((line) => line.split(" ").slice(1).join(" ")), ["native"]);
  assert.deepEqual(two.published, []);
  assert.deepEqual(links.map((link) => link.sent), [
    ["each", "native"],
    ["each", "native"],
    ["each"],
    ["each"],
  ]);
});

test("A native publish is followed by the send-buffer check on every subscriber", () => {
  const { site, open } = siteWith();
  const pubsub = new FakePubSub();
  const [slow, fast] = [new PubSubLike(pubsub), new PubSubLike(pubsub)];
  open(slow).subscribe("t");
  open(fast).subscribe("t");
  site.publish("t", "x".repeat(60));
  fast.bufferedAmount = 0;
  site.publish("t", "x".repeat(60));
  assert.deepEqual(slow.terminated, { code: 1008, reason: "Send buffer overflow" });
  assert.equal(fast.terminated, undefined);
  assert.deepEqual(pubsub.topicsOf(slow), [], "unsubscribed natively too");
  assert.equal(site.subscriberCount("t"), 1);
});

test("Each site names its topics apart in a native pub/sub they share", () => {
  const pubsub = new FakePubSub();
  const [first, second] = [siteWith(), siteWith()];
  const links = [new PubSubLike(pubsub), new PubSubLike(pubsub)];
  first.open(links[0]).subscribe("t");
  second.open(links[1]).subscribe("t");
  assert.notDeepEqual(pubsub.topicsOf(links[0]), pubsub.topicsOf(links[1]));
  first.site.publish("t", "first only");
  assert.deepEqual(links.map((link) => link.sent), [["first only"], []]);
});

test("A subscriber whose send buffer passes maxSendBufferBytes is failed with 1008", () => {
  const { site, open } = siteWith();
  const slow = new FramingLike();
  const fast = new NativeLike();
  open(slow).subscribe("t");
  const fastSession = open(fast);
  fastSession.subscribe("t");
  const message = "x".repeat(60);
  site.publish("t", message);
  fast.bufferedAmount = 0;
  assert.equal(slow.terminated, undefined);
  site.publish("t", message);
  assert.deepEqual(slow.terminated, { code: 1008, reason: "Send buffer overflow" });
  fast.bufferedAmount = 0;
  site.publish("t", message);
  assert.equal(slow.frames.length, 2, "nothing more is sent to the failed subscriber");
  assert.equal(fast.sent.length, 3);
  assert.equal(fast.terminated, undefined);
});

test("A connectionLost that publishes during a delivery is sent after it, to everyone", () => {
  const links: NativeLike[] = [];
  const site = new WebSocketSite();
  class Member extends WebSocketHandler {
    override connectionLost(): void {
      site.publish("t", "someone left");
    }
  }
  site.addHandler("/t", Member);
  const open = (link: NativeLike) => {
    links.push(link);
    return openOn(site, link);
  };
  /** A link whose session closes while a message is written to it. */
  class Dropping extends NativeLike {
    session: Session | undefined;
    override send(data: string | Uint8Array): void {
      super.send(data);
      if (data === "news") this.session!.closed({ code: 1006, reason: "", wasClean: false });
    }
  }
  const a = open(new NativeLike());
  const dropping = new Dropping();
  const b = open(dropping);
  dropping.session = b;
  const c = open(new NativeLike());
  for (const session of [a, b, c]) session.subscribe("t");
  site.publish("t", "news");
  assert.deepEqual(links.map((link) => link.sent), [
    ["news", "someone left"],
    ["news"],
    ["news", "someone left"],
  ]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { NativeLink } from "../../src/adapters/native_link.ts";
import type { CloseInfo } from "../../src/core/close_record.ts";
import { type Limits, resolveLimits } from "../../src/core/limits.ts";
import type { Session } from "../../src/site/session.ts";

/** A NativeLink over no socket, recording what it asks of the runtime in `calls`. */
class TestLink extends NativeLink {
  readonly calls: string[] = [];
  open = true;

  get isOpen(): boolean {
    return this.open;
  }
  send(): void {}
  ping(): boolean {
    this.calls.push("ping");
    return true;
  }
  get bufferedAmount(): number {
    return 0;
  }
  protected nativeClose(code: number, reason: string): void {
    this.open = false;
    this.calls.push(`close ${code} ${reason}`);
  }
  protected nativeTerminate(code: number, reason: string): void {
    this.open = false;
    this.calls.push(`terminate ${code} ${reason}`);
  }
}

/** A session that records what the link tells it, and closes the link when asked. */
function fakeSession(link: TestLink): { session: Session; calls: string[]; lost: CloseInfo[] } {
  const calls: string[] = [];
  const lost: CloseInfo[] = [];
  const session = {
    closed: (info: CloseInfo) => lost.push(info),
    closing: () => calls.push("closing"),
    writable: () => {},
    receive: () => {},
    pong: () => {},
    close: (code: number, reason: string) => {
      calls.push(`session.close ${code} ${reason}`);
      link.close(code, reason);
    },
  } as unknown as Session;
  return { session, calls, lost };
}

/**
 * A link and its session with only the given timers on. The link's clock starts at
 * construction, within a few milliseconds after `start`: the times below leave 500 ms.
 */
function setup(limits: Partial<Limits>) {
  const start = performance.now();
  const link = new TestLink(
    resolveLimits({
      heartbeatIntervalMs: 0,
      idleTimeoutMs: 0,
      closeTimeoutMs: 0,
      ...limits,
    }),
    true,
  );
  const { session, calls, lost } = fakeSession(link);
  link.session = session;
  return { start, link, calls, lost };
}

test("NativeLink reports the code it failed with, not the 1006 the runtime reports after", () => {
  const { link, calls, lost } = setup({});
  link.terminate(1009, "Message too big");
  assert.deepEqual(link.calls, ["terminate 1009 Message too big"]);
  assert.deepEqual(calls, ["closing"]);
  link.ended({ code: 1006, reason: "", wasClean: false });
  link.ended({ code: 1000, reason: "", wasClean: true });
  assert.deepEqual(lost, [{ code: 1009, reason: "Message too big", wasClean: false }]);
});

test("NativeLink keeps the first failure when terminated twice", () => {
  const { link, lost } = setup({});
  link.terminate(1008, "Send buffer overflow");
  link.terminate(1011, "Internal error");
  link.ended({ code: 1006, reason: "", wasClean: false });
  assert.deepEqual(lost, [{ code: 1008, reason: "Send buffer overflow", wasClean: false }]);
});

test("NativeLink reports the runtime's close when it failed nothing", () => {
  const { link, lost } = setup({});
  link.close(1000, "bye");
  link.ended({ code: 1000, reason: "bye", wasClean: true });
  link.terminate(1011, "Internal error");
  assert.deepEqual(link.calls, ["close 1000 bye"], "no terminate once ended");
  assert.deepEqual(lost, [{ code: 1000, reason: "bye", wasClean: true }]);
});

test("NativeLink reports a close that came before its session at once", () => {
  const link = new TestLink(resolveLimits(), true);
  link.ended({ code: 1001, reason: "", wasClean: true });
  const { session, lost } = fakeSession(link);
  link.session = session;
  assert.deepEqual(lost, [{ code: 1001, reason: "", wasClean: true }]);
});

test("NativeLink.tick() pings, then fails with 1001 when the ping goes unanswered", () => {
  const { start, link, calls, lost } = setup({
    heartbeatIntervalMs: 10_000,
    heartbeatTimeoutMs: 5_000,
  });
  link.tick(start + 9_000);
  assert.deepEqual(link.calls, []);
  link.tick(start + 10_500);
  assert.deepEqual(link.calls, ["ping"]);
  link.tick(start + 16_000);
  assert.deepEqual(link.calls, ["ping", "terminate 1001 Heartbeat timeout"]);
  assert.deepEqual(calls, ["closing"]);
  link.ended({ code: 1006, reason: "", wasClean: false });
  assert.deepEqual(lost, [{ code: 1001, reason: "Heartbeat timeout", wasClean: false }]);
});

test("NativeLink.tick() sends no ping when the runtime has no ping API", () => {
  const start = performance.now();
  const link = new TestLink(resolveLimits({ heartbeatIntervalMs: 1000, idleTimeoutMs: 0 }), false);
  link.tick(start + 60_000);
  assert.deepEqual(link.calls, []);
});

test("NativeLink.tick() closes an idle connection through its session with 1001", () => {
  const { start, link, calls } = setup({ idleTimeoutMs: 10_000 });
  link.tick(start + 10_500);
  assert.deepEqual(calls, ["session.close 1001 Idle timeout"]);
  assert.deepEqual(link.calls, ["close 1001 Idle timeout"]);
});

test("NativeLink.tick() drops a close handshake the peer never answers, reported as 1006", () => {
  const { start, link, lost } = setup({ closeTimeoutMs: 10_000 });
  link.close(1000, "");
  link.tick(start + 9_000);
  assert.deepEqual(link.calls, ["close 1000 "]);
  link.tick(start + 10_500);
  assert.deepEqual(link.calls, ["close 1000 ", "terminate 1006 Close handshake timed out"]);
  link.ended({ code: 1000, reason: "", wasClean: true });
  assert.deepEqual(lost, [{ code: 1006, reason: "Close handshake timed out", wasClean: false }]);
});

test("NativeLink restarts the heartbeat at the first tick after a message or a pong", () => {
  const { start, link } = setup({ heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 5_000 });
  link.tick(start + 9_000);
  link.received("still here");
  link.tick(start + 10_500);
  assert.deepEqual(link.calls, [], "the message counts from this tick: no ping yet");
  link.tick(start + 20_400);
  assert.deepEqual(link.calls, []);
  link.tick(start + 20_600);
  assert.deepEqual(link.calls, ["ping"]);
  link.ponged(new Uint8Array(0));
  link.tick(start + 26_000);
  assert.deepEqual(link.calls, ["ping"], "the pong answered it: no heartbeat timeout");
});

test("NativeLink counts a text in UTF-8 once, for the size limit and the session", () => {
  const { link, lost } = setup({ maxMessageBytes: 4 });
  const received: [string | Uint8Array, number][] = [];
  (link.session as unknown as { receive: unknown }).receive = (
    message: string | Uint8Array,
    bytes: number,
  ) => received.push([message, bytes]);
  link.received("éé");
  assert.deepEqual(received, [["éé", 4]]);
  link.received("ééé");
  assert.deepEqual(link.calls, ["terminate 1009 Message too big"]);
  assert.equal(received.length, 1);
  link.ended({ code: 1006, reason: "", wasClean: false });
  assert.deepEqual(lost, [{ code: 1009, reason: "Message too big", wasClean: false }]);
});

/**
 * The example pages in headless Chromium, checked through the DOM: the echo page echoes
 * what is typed into its box beside the file listing, two chat pages see who they are,
 * which room they are in, and each other's messages, a chat page whose connection drops
 * shows, once back, every message it missed, once, and the metrics page shows its own
 * traffic in the table and the chart.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipUnless } from "../helpers/required.ts";
import { pairs, startExample } from "../helpers/server.ts";
import { chromiumUnavailable, launchChromium } from "../helpers/chromium.ts";

/** How long a page may take to show what a step expects. */
const TIMEOUT_MS = 10_000;

/** The slice of playwright-core's page used here. */
interface Page {
  goto(url: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  textContent(selector: string): Promise<string | null>;
  waitForFunction<A>(
    fn: (arg: A) => boolean,
    arg: A,
    options: { timeout: number },
  ): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
  frames(): { url(): string; content(): Promise<string> }[];
  routeWebSocket(url: RegExp, handler: (route: WebSocketRoute) => void): Promise<void>;
  close(): Promise<void>;
}
/** The slice of playwright-core's WebSocketRoute used here: a page's socket, proxied. */
interface WebSocketRoute {
  connectToServer(): unknown;
  close(options: { code: number; reason: string }): Promise<void>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

const skip = skipUnless("chromium", await chromiumUnavailable());

/** Waits until the text of the elements matching `selector` includes `expected`. */
function waitForText(page: Page, selector: string, expected: string): Promise<unknown> {
  return page.waitForFunction(
    ({ selector, expected }) =>
      Array.from(document.querySelectorAll(selector)).some((element) =>
        (element.textContent ?? "").includes(expected)
      ),
    { selector, expected },
    { timeout: TIMEOUT_MS },
  );
}

/** The text of every element matching `selector`, in document order. */
function texts(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(
    (selector) =>
      Array.from(document.querySelectorAll(selector)).map((element) => element.textContent ?? ""),
    selector,
  );
}

describe("the example pages in Chromium", { skip }, () => {
  let browser: Browser;

  before(async () => {
    browser = await launchChromium<Browser>();
  });

  after(async () => {
    await browser?.close();
  });

  for (const pair of pairs) {
    test(`${pair.name}: the echo page echoes what is typed, beside the listing`, async () => {
      const echo = await startExample("echo", pair.adapter);
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${echo.port}/`);
        await waitForText(page, "#status", "connected");
        await page.fill("#text", "héllo from Chromium");
        await page.click("#send");
        await waitForText(page, "#log li.received", "héllo from Chromium");
        assert.deepEqual(await texts(page, "#log li.sent"), ["héllo from Chromium"]);
        assert.deepEqual(await texts(page, "#log li.received"), ["héllo from Chromium"]);
        assert.equal(
          await page.evaluate(() => (document.getElementById("text") as HTMLInputElement).value, 0),
          "",
        );

        const listing = page.frames().find((frame) => frame.url().endsWith("/files/"));
        assert.ok(listing, "the listing is framed beside the echo box");
        assert.match(await listing.content(), /<a href="README\.md">README\.md<\/a>/);
      } finally {
        await page.close();
        await echo.stop();
      }
    });

    test(`${pair.name}: two chat pages see their names, their room and each other`, async () => {
      const chat = await startExample("chat", pair.adapter);
      const ada = await browser.newPage();
      const bob = await browser.newPage();
      try {
        const url = `http://127.0.0.1:${chat.port}/?room=garden`;
        await ada.goto(url);
        await waitForText(ada, "#state", "connected");
        await waitForText(ada, "#me", "guest-");
        await bob.goto(url);
        await waitForText(bob, "#me", "guest-");
        const adaName = (await ada.textContent("#me"))!;
        const bobName = (await bob.textContent("#me"))!;
        assert.match(adaName, /^guest-\d+$/);
        assert.match(bobName, /^guest-\d+$/);
        assert.notEqual(adaName, bobName);
        for (const page of [ada, bob]) assert.equal(await page.textContent("#room"), "garden");
        await waitForText(ada, "#log li.event", `${bobName} joined garden`);

        await ada.fill("#text", "hello, garden");
        await ada.click("#send");
        await waitForText(bob, "#log li.message", "hello, garden");
        await waitForText(ada, "#log li.mine", "hello, garden");
        assert.deepEqual(await texts(bob, "#log li.message .from"), [adaName]);
        assert.deepEqual(await texts(bob, "#log li.mine"), []);

        await bob.fill("#text", "/join pond");
        await bob.click("#send");
        await waitForText(bob, "#room", "pond");
        assert.match(await bob.evaluate(() => location.search, 0), /room=pond/);
        await waitForText(ada, "#log li.event", `${bobName} left for pond`);
        assert.equal(await ada.textContent("#room"), "garden");
      } finally {
        await ada.close();
        await bob.close();
        await chat.stop();
      }
    });

    test(`${pair.name}: the metrics page counts its own messages and charts the rate`, async () => {
      const metrics = await startExample("metrics", pair.adapter);
      const page = await browser.newPage();
      const cell = (column: string) => `#routes tr[data-route="/echo"] td.${column}`;
      try {
        await page.goto(`http://127.0.0.1:${metrics.port}/?interval=100`);
        await waitForText(page, "#state", "connected");
        await waitForText(page, cell("open"), "1");
        assert.equal(await page.textContent(cell("accepted")), "1");
        assert.equal(await page.textContent(cell("messagesIn")), "0");

        await page.click("#burst");
        await waitForText(page, cell("messagesOut"), "10");
        // "ping 0" to "ping 9": 6 bytes each, each way.
        assert.deepEqual(
          await texts(page, `#routes tr[data-route="/echo"] td`),
          ["/echo", "1", "1", "–", "10", "10", "60", "60", "–", "0"],
        );
        // A rate needs two polls; when the burst falls between the first two, the first
        // rate is already the peak, so wait for a second point as well.
        await page.waitForFunction(
          () =>
            Number(document.getElementById("peak")!.textContent) > 0 &&
            (document.getElementById("line")!.getAttribute("points") ?? "").split(" ").length >= 2,
          0,
          { timeout: TIMEOUT_MS },
        );
        const points = await page.evaluate(
          () => document.getElementById("line")!.getAttribute("points") ?? "",
          0,
        );
        const ys = points.split(" ").map((point) => Number(point.split(",")[1]));
        assert.ok(ys.length >= 2, `the chart has points: "${points}"`);
        assert.ok(ys.every((y) => y >= 0 && y <= 100), `the points fit the chart: "${points}"`);
        assert.ok(Math.min(...ys) < 99, `a peak above the axis: "${points}"`);

        await page.click("#close");
        await waitForText(page, "#state", "closed (1000)");
        await waitForText(page, cell("closeCodes"), "1000×1");
        assert.equal(await page.textContent(cell("open")), "0");
      } finally {
        await page.close();
        await metrics.stop();
      }
    });

    test(`${pair.name}: a chat page that loses its connection shows what it missed, once`, async () => {
      const chat = await startExample("chat", pair.adapter);
      const ada = await browser.newPage();
      const bob = await browser.newPage();
      // Ada's sockets go through the test: while "offline", each is closed as it opens.
      let online = true;
      let current: WebSocketRoute | undefined;
      await ada.routeWebSocket(/\/chat/, (route) => {
        if (!online) return void route.close({ code: 4000, reason: "offline" });
        route.connectToServer();
        current = route;
      });
      try {
        const url = `http://127.0.0.1:${chat.port}/?room=garden`;
        await ada.goto(url);
        await waitForText(ada, "#me", "guest-");
        await bob.goto(url);
        await waitForText(bob, "#me", "guest-");
        const bobName = (await bob.textContent("#me"))!;
        await waitForText(ada, "#log li.event", `${bobName} joined garden`);

        online = false;
        await current!.close({ code: 4000, reason: "dropped" });
        await waitForText(ada, "#state", "reconnecting");
        const said = ["one", "two", "three"];
        for (const text of said) {
          await bob.fill("#text", text);
          await bob.click("#send");
          await waitForText(bob, "#log li.mine", text);
        }
        online = true;
        await waitForText(ada, "#log li.message", "three");
        await waitForText(ada, "#state", "connected");
        await bob.fill("#text", "four");
        await bob.click("#send");
        await waitForText(ada, "#log li.message", "four");
        assert.deepEqual(
          await texts(ada, "#log li.message"),
          [...said, "four"].map((text) => bobName + text),
          "each missed message once, in order, then live ones",
        );
      } finally {
        await ada.close();
        await bob.close();
        await chat.stop();
      }
    });
  }
});

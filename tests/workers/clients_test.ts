/**
 * Other clients than `ws` against the Workers under `workerd`: python-websockets (the
 * interop suite's client script) on the echo, and the chat example's page in headless
 * Chromium, two pages talking through the room's Durable Object.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXAMPLE_WORKERS, startWorker } from "../../examples/workers/workerd.ts";
import { Child } from "../helpers/child.ts";
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING } from "../helpers/chromium.ts";
import { repoRoot } from "../helpers/paths.ts";
import { skipUnless, unavailable } from "../helpers/required.ts";
import { skipWorkerd } from "../helpers/workerd.ts";

const PYTHON = "/usr/bin/python3";

const skipPython = skipWorkerd || skipUnless(
  "python",
  await unavailable(
    { file: PYTHON, missing: `no ${PYTHON}` },
    {
      command: [PYTHON, "-c", "import websockets"],
      missing: `no ${PYTHON}`,
      failing: "python3-websockets is not installed (apt-get install python3-websockets)",
    },
  ),
);

const skipChromium = skipWorkerd || skipUnless(
  "chromium",
  existsSync(CHROMIUM)
    ? await unavailable({ module: "playwright-core", missing: "playwright-core is not installed" })
    : CHROMIUM_MISSING,
);

test("python-websockets echoes text and 100 KiB binary through a Worker", {
  skip: skipPython,
}, async () => {
  const worker = await startWorker(EXAMPLE_WORKERS.echo);
  const url = `ws://127.0.0.1:${worker.port}/echo`;
  const client = new Child([
    PYTHON,
    join(repoRoot, "tests", "conformance", "clients", "websockets_client.py"),
    url,
  ]);
  try {
    assert.equal(await client.exitCode(20_000), 0, client.output);
    const cell = client.stdout.split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { url?: string; ok?: boolean; detail?: string })
      .find((line) => line.url === url);
    assert.deepEqual(cell, {
      url,
      ok: true,
      detail: "text and 100 KiB binary echoed, closed 1000",
    });
  } finally {
    await client.kill();
    await worker.stop();
  }
});

/** The slice of playwright-core's page used here. */
interface Page {
  goto(url: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  waitForFunction<A>(
    fn: (arg: A) => boolean,
    arg: A,
    options: { timeout: number },
  ): Promise<unknown>;
}

/** Waits until an item of the page's log matches `pattern` (a regular expression's source). */
function logged(page: Page, pattern: string): Promise<unknown> {
  return page.waitForFunction(
    (pattern) =>
      Array.from(document.querySelectorAll("#log li")).some((item) =>
        new RegExp(pattern).test(item.textContent ?? "")
      ),
    pattern,
    { timeout: 10_000 },
  );
}

test("the chat page in Chromium: two pages in one room hear each other", {
  skip: skipChromium,
}, async () => {
  const worker = await startWorker(EXAMPLE_WORKERS.chat);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  try {
    const page = `http://127.0.0.1:${worker.port}/?room=garden`;
    const ada = await browser.newPage() as unknown as Page;
    await ada.goto(page);
    await logged(ada, "^guest-\\w+ joined garden$");
    const bob = await browser.newPage() as unknown as Page;
    await bob.goto(page);
    await logged(bob, "^guest-\\w+ joined garden$");
    await ada.fill("#text", "hello from ada");
    await ada.click("#send");
    await logged(bob, "^guest-\\w+: hello from ada$");
    await logged(ada, "^guest-\\w+: hello from ada$");
  } finally {
    await browser.close();
    await worker.stop();
  }
});

// permessage-deflate against headless Chromium (through playwright-core), which offers
// "permessage-deflate; client_max_window_bits" on every connection: text and binary
// echoed through the tap, with and without context takeover and with smaller windows.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { skipUnless } from "../helpers/required.ts";
import { withSite } from "../helpers/server.ts";
import {
  assertCompressedOnTheWire,
  assertEchoed,
  byAdapter,
  compressingPairs,
  configurations,
  echoSite,
  MESSAGES,
  PATH,
} from "./scenario.ts";
import { Tap } from "./tap.ts";
import { chromiumUnavailable, launchChromium } from "../helpers/chromium.ts";

/** The slice of playwright-core used here. */
interface Page {
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

const skip = skipUnless("chromium", await chromiumUnavailable());

/** A message as it crosses into the page: bytes as an array of numbers. */
type Wire = string | number[];

/** Runs in the page: sends every message, returns the echoes and the extensions. */
function echoInPage(
  { url, messages }: { url: string; messages: Wire[] },
): Promise<{ echoes: Wire[]; extensions: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const echoes: Wire[] = [];
    const timer = setTimeout(() => reject(new Error("no echoes after 10 s")), 10_000);
    socket.onerror = () => reject(new Error(`could not use ${url}`));
    socket.onopen = () => {
      for (const message of messages) {
        socket.send(typeof message === "string" ? message : new Uint8Array(message));
      }
    };
    socket.onmessage = (event) => {
      const data = event.data;
      echoes.push(typeof data === "string" ? data : Array.from(new Uint8Array(data)));
      if (echoes.length < messages.length) return;
      clearTimeout(timer);
      const extensions = socket.extensions;
      socket.onclose = () => resolve({ echoes, extensions });
      socket.close();
    };
  });
}

describe("Chromium with compression", { skip }, () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await launchChromium<Browser>();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
  });

  for (const pair of compressingPairs) {
    for (const configuration of configurations) {
      test(`${pair.name}: echoes text and binary, compressed both ways (${configuration.name})`, async () => {
        await withSite(echoSite(configuration.setting), pair, async (server) => {
          const tap = await Tap.start(server.port);
          try {
            const result = await page.evaluate(echoInPage, {
              url: `ws://127.0.0.1:${tap.port}${PATH}`,
              messages: MESSAGES.map((message) =>
                typeof message === "string" ? message : Array.from(message)
              ),
            });
            assertEchoed(
              result.echoes.map((echo) => typeof echo === "string" ? echo : new Uint8Array(echo)),
            );
            const answer = byAdapter(configuration.answer, pair);
            assertCompressedOnTheWire(tap, answer);
            assert.equal(result.extensions, answer);
          } finally {
            await tap.stop();
          }
        });
      });
    }
  }
});

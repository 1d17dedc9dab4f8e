/**
 * How the browser tests start Debian's Chromium: headless, and with nothing that reaches
 * for the network (this machine has none beyond loopback).
 */

import { unavailable } from "./required.ts";

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests skip when Chromium is missing. */
export const CHROMIUM_MISSING = `${CHROMIUM} is not installed (apt-get install chromium)`;

/** The launch flags, for playwright-core's `chromium.launch({ args })`. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Why the browser tests cannot run here (no Chromium, no playwright-core), or `undefined`. */
export function chromiumUnavailable(): Promise<string | undefined> {
  return unavailable(
    { file: CHROMIUM, missing: CHROMIUM_MISSING },
    { module: "playwright-core", missing: "playwright-core is not installed" },
  );
}

/**
 * Starts Chromium with {@link CHROMIUM_ARGS} through playwright-core, imported only now, so
 * that a test file that skips never loads it. `Browser` is the slice of playwright's
 * browser the caller declares and uses.
 */
export async function launchChromium<Browser>(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  return browser as unknown as Browser;
}

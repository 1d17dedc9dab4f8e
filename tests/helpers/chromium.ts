/**
 * How the browser tests start Debian's Chromium: headless, and with nothing that reaches
 * for the network (this machine has none beyond loopback).
 */

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

/**
 * The browser interop client, run by Node: one headless Chromium (the one given, driven
 * by playwright-core, with the launch flags given as a JSON array: the test passes those of
 * tests/helpers/chromium.ts) loads each page URL given, a page the site under test serves,
 * and runs the echo cell there. Prints one JSON line naming the browser, then one per URL:
 * `{ "url", "ok", "detail" }`.
 *
 * Usage: node browser_client.mjs /usr/bin/chromium '["--headless", ...]' http://host:port/...
 */
import { chromium } from "playwright-core";

const [executablePath, args, ...urls] = process.argv.slice(2);

const browser = await chromium.launch({ executablePath, args: JSON.parse(args) });
try {
  console.log(JSON.stringify({ client: `Chromium ${browser.version()}` }));
  for (const url of urls) {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      const result = await page.evaluate(() => globalThis.runEchoCell());
      console.log(JSON.stringify({ url, ...result }));
    } catch (error) {
      console.log(JSON.stringify({ url, ok: false, detail: error.message.split("\n")[0] }));
    } finally {
      await page.close();
    }
  }
} finally {
  await browser.close();
}

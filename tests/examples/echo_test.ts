/**
 * The echo example as a process on every adapter: its page at `/`, the file listing of
 * its working folder at `/files/`, the files themselves, and the echo at `/echo`, on one
 * port.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Client } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { pairs, startExample } from "../helpers/server.ts";

for (const pair of pairs) {
  test(`the echo example on ${pair.name}: a page at /, a listing, files, and the echo`, async () => {
    const echo = await startExample("echo", pair.adapter);
    try {
      const base = `http://127.0.0.1:${echo.port}`;
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
      const pageHtml = await page.text();
      assert.match(pageHtml, /<input id="text"/);
      assert.match(pageHtml, /<iframe src="\/files\/"/);

      const bare = await fetch(`${base}/files`, { redirect: "manual" });
      assert.equal(bare.status, 301);
      assert.equal(bare.headers.get("location"), "/files/");
      await bare.body?.cancel();

      const listing = await fetch(`${base}/files/`);
      assert.equal(listing.status, 200);
      assert.equal(listing.headers.get("content-type"), "text/html; charset=utf-8");
      const html = await listing.text();
      assert.match(html, /<a href="README\.md">README\.md<\/a>/);
      assert.match(html, /<a href="examples\/">examples\/<\/a>/);

      const readme = await fetch(`${base}/files/README.md`);
      assert.equal(readme.status, 200);
      assert.equal(await readme.text(), readFileSync(join(repoRoot, "README.md"), "utf8"));

      const client = await Client.open(`ws://127.0.0.1:${echo.port}/echo`);
      client.send("héllo");
      assert.equal(await client.next(), "héllo");
      client.send(new Uint8Array([0, 1, 2, 255]));
      assert.deepEqual(await client.next(), new Uint8Array([0, 1, 2, 255]));
      await client.closeAndWait();
    } finally {
      await echo.stop();
    }
  });
}

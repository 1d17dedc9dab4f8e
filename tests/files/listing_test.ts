import { test } from "node:test";
import assert from "node:assert/strict";
import { type ListingEntry, renderListing } from "../../src/files/listing.ts";

const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

function file(name: string, size = 1): ListingEntry {
  return { name, directory: false, size, modified: at };
}

function dir(name: string): ListingEntry {
  return { name, directory: true, size: 4096, modified: at };
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
}

test("renderListing() lists directories first, then files, each by name", () => {
  const html = renderListing("/", [file("b.txt"), dir("zeta"), file("A.txt"), dir("alpha")]);
  assert.deepEqual(hrefs(html), ["alpha/", "zeta/", "A.txt", "b.txt"]);
});

test("renderListing() links to the parent except at the root", () => {
  assert.deepEqual(hrefs(renderListing("/docs/", [file("a")])), ["../", "a"]);
  assert.deepEqual(hrefs(renderListing("/", [file("a")])), ["a"]);
});

test("renderListing() escapes a hostile name in the text and encodes it in the href", () => {
  const name = "<img src=x onerror=alert(1)>";
  const html = renderListing("/", [file(name)]);
  assert.ok(!html.includes("<img"), "no raw tag");
  assert.ok(html.includes(">&lt;img src=x onerror=alert(1)&gt;</a>"), "escaped text");
  assert.deepEqual(hrefs(html), [encodeURIComponent(name)]);
  assert.equal(encodeURIComponent(name), "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E");
});

test("renderListing() escapes quotes and ampersands in names", () => {
  const html = renderListing("/", [file(`a"b'c&d.txt`)]);
  assert.ok(html.includes(">a&quot;b&#39;c&amp;d.txt</a>"));
  assert.deepEqual(hrefs(html), ["a%22b&#39;c%26d.txt"]);
});

test("renderListing() escapes the path in the title and heading", () => {
  const html = renderListing("/<b>/", []);
  assert.ok(html.includes("<title>Index of /&lt;b&gt;/</title>"));
  assert.ok(html.includes("<h1>Index of /&lt;b&gt;/</h1>"));
  assert.ok(!html.includes("<b>"));
});

test("renderListing() shows file sizes in binary units and none for directories", () => {
  const html = renderListing("/", [
    file("tiny", 512),
    file("kilo", 1536),
    file("mega", 512 * 1024 * 1024),
    dir("sub"),
  ]);
  assert.ok(html.includes("<td>512 B</td>"));
  assert.ok(html.includes("<td>1.5 KiB</td>"));
  assert.ok(html.includes("<td>512.0 MiB</td>"));
  assert.ok(html.includes("sub/</a></td><td></td>"));
});

test("renderListing() shows modification times in UTC", () => {
  const html = renderListing("/", [file("a")]);
  assert.ok(html.includes('<time datetime="2024-01-02T03:04:05.000Z">2024-01-02 03:04:05</time>'));
});

test("renderListing() renders a complete document for an empty directory", () => {
  const html = renderListing("/empty/", []);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(html.includes('<meta charset="utf-8">'));
  assert.ok(html.trimEnd().endsWith("</html>"));
});

test("renderListing() notes how many entries were left out", () => {
  assert.ok(renderListing("/", [file("a")], 4_000).includes("… and 4000 more entries not listed."));
  assert.ok(renderListing("/", [file("a")], 1).includes("… and 1 more entry not listed."));
  assert.ok(!renderListing("/", [file("a")]).includes("not listed"));
});

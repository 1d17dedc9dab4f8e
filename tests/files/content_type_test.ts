import { test } from "node:test";
import assert from "node:assert/strict";
import { contentType } from "../../src/files/content_type.ts";

test("contentType() maps common extensions to their media types", () => {
  const expected: Record<string, string> = {
    "index.html": "text/html; charset=utf-8",
    "old.htm": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "module.mjs": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "data.json": "application/json",
    "app.js.map": "application/json",
    "logo.svg": "image/svg+xml",
    "photo.png": "image/png",
    "photo.jpg": "image/jpeg",
    "photo.jpeg": "image/jpeg",
    "anim.gif": "image/gif",
    "photo.webp": "image/webp",
    "favicon.ico": "image/x-icon",
    "module.wasm": "application/wasm",
    "notes.txt": "text/plain; charset=utf-8",
    "README.md": "text/markdown; charset=utf-8",
    "font.woff": "font/woff",
    "font.woff2": "font/woff2",
    "paper.pdf": "application/pdf",
    "clip.mp4": "video/mp4",
    "clip.webm": "video/webm",
  };
  for (const [name, type] of Object.entries(expected)) {
    assert.equal(contentType(name), type, name);
  }
});

test("contentType() ignores the case of the extension", () => {
  assert.equal(contentType("SHOUT.HTML"), "text/html; charset=utf-8");
  assert.equal(contentType("Photo.JpEg"), "image/jpeg");
});

test("contentType() looks only at the last segment of a path", () => {
  assert.equal(contentType("/srv/site.v2/app.js"), "text/javascript; charset=utf-8");
  assert.equal(contentType("dir.html/LICENSE"), "application/octet-stream");
  assert.equal(contentType("C:\\site.css\\notes.txt"), "text/plain; charset=utf-8");
});

test("contentType() falls back to application/octet-stream", () => {
  assert.equal(contentType("archive.unknownext"), "application/octet-stream");
  assert.equal(contentType("Makefile"), "application/octet-stream");
  assert.equal(contentType("trailing."), "application/octet-stream");
  assert.equal(contentType(".env"), "application/octet-stream");
  assert.equal(contentType(".html"), "application/octet-stream");
});

test("contentType() does not read inherited object keys as extensions", () => {
  assert.equal(contentType("x.constructor"), "application/octet-stream");
  assert.equal(contentType("x.__proto__"), "application/octet-stream");
  assert.equal(contentType("x.toString"), "application/octet-stream");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { safePath } from "../../src/files/safe_path.ts";

test("safePath() splits and decodes a plain path", () => {
  assert.deepEqual(safePath("/docs/read%20me.txt"), {
    ok: true,
    segments: ["docs", "read me.txt"],
    trailingSlash: false,
  });
});

test("safePath() reports a trailing slash", () => {
  assert.deepEqual(safePath("/"), { ok: true, segments: [], trailingSlash: true });
  assert.deepEqual(safePath("/docs/"), { ok: true, segments: ["docs"], trailingSlash: true });
});

test("safePath() decodes UTF-8 names", () => {
  assert.deepEqual(safePath("/caf%C3%A9/%E2%9C%93.txt"), {
    ok: true,
    segments: ["café", "✓.txt"],
    trailingSlash: false,
  });
});

test("safePath() decodes exactly once, so a double-encoded dot-dot is a literal name", () => {
  assert.deepEqual(safePath("/%252e%252e/x"), {
    ok: true,
    segments: ["%2e%2e", "x"],
    trailingSlash: false,
  });
});

test("safePath() leaves dotfiles to the caller", () => {
  assert.deepEqual(safePath("/.well-known/x"), {
    ok: true,
    segments: [".well-known", "x"],
    trailingSlash: false,
  });
});

test("safePath() refuses traversal and separator tricks with 404", () => {
  const refused = [
    "",
    "docs/a.txt",
    "/..",
    "/../secret",
    "/docs/../../secret",
    "/.",
    "/./a",
    "/%2e%2e/secret",
    "/%2E%2E/secret",
    "/.%2e/secret",
    "/%2e./secret",
    "/%2e",
    "/..%2fsecret",
    "/..%2Fsecret",
    "/%2fetc%2fpasswd",
    "/docs%2f..%2f..%2fsecret",
    "/..%5csecret",
    "/..%5Csecret",
    "/..\\secret",
    "/\\etc\\passwd",
    "//etc/passwd",
    "/docs//a.txt",
    "/a%00.txt",
    "/a%00/b",
  ];
  for (const path of refused) {
    assert.deepEqual(safePath(path), { ok: false, status: 404 }, JSON.stringify(path));
  }
});

test("safePath() answers 400 to a malformed percent-encoding", () => {
  for (const path of ["/%", "/%zz", "/a%2", "/%E0%A4%A", "/%c0%ae%c0%ae/secret", "/%u002e%u002e"]) {
    assert.deepEqual(safePath(path), { ok: false, status: 400 }, path);
  }
});

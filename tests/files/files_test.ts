import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  mkdir,
  mkdtemp,
  open,
  readdir,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { contentType } from "../../src/files/content_type.ts";
import { files, type FilesOptions } from "../../src/files/files.ts";
import { resolveInside, resolveRoot } from "../../src/files/resolve_inside.ts";
import { safePath } from "../../src/files/safe_path.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { rawRequest, within } from "../helpers/client.ts";
import { pairs, withSite } from "../helpers/server.ts";

const SECRET = "TOP SECRET 42";
const SIBLING_SECRET = "SIBLING SECRET 43";
const DIGITS = "0123456789".repeat(10);
const HOSTILE = "<img src=x onerror=alert(1)>";

interface Fixture {
  /** The temp directory holding root, the secret and the sibling directory. */
  base: string;
  /** The served directory. */
  root: string;
  /** The path of the secret file outside root. */
  secret: string;
}

/**
 * Builds a fresh tree in a temp dir, runs `body`, then removes the tree:
 *
 * base/secret.txt, base/root-evil/secret.txt, and base/root/ holding text and media files,
 * site/index.html, docs/ (no index, a hostile name, a subdirectory, a dotfile, a link out),
 * café/, .env, .git/config, and symlinks out of root (link-out, link-up, link-sibling) and
 * inside it (link-in).
 */
async function withFixture(body: (fixture: Fixture) => Promise<void>): Promise<void> {
  const base = await realpath(await mkdtemp(join(tmpdir(), "wsport-files-")));
  try {
    const root = join(base, "root");
    const secret = join(base, "secret.txt");
    await writeFile(secret, SECRET);
    await mkdir(join(base, "root-evil"));
    await writeFile(join(base, "root-evil", "secret.txt"), SIBLING_SECRET);
    for (const dir of ["site", "docs/sub", "café", ".git"]) {
      await mkdir(join(root, dir), { recursive: true });
    }
    const texts: Record<string, string> = {
      "hello.txt": "hello, world\n",
      "digits.txt": DIGITS,
      "page.html": "<h1>hi</h1>",
      "app.js": "export {};",
      "app.mjs": "export {};",
      "style.css": "a{}",
      "data.json": "{}",
      "logo.svg": "<svg/>",
      "blob.unknownext": "?",
      "LICENSE": "MIT",
      "empty.txt": "",
      "site/index.html": "<p>site</p>",
      "docs/a.txt": "a",
      "docs/B.txt": "bb",
      [`docs/${HOSTILE}`]: "x",
      "docs/.note": "hidden note",
      "docs/sub/c.txt": "c",
      "café/menu.txt": "menu",
      ".env": "DOT ENV",
      ".git/config": "[core]",
    };
    for (const [name, text] of Object.entries(texts)) await writeFile(join(root, name), text);
    for (const name of ["pic.png", "pic.jpg", "pic.gif", "pic.webp", "favicon.ico", "mod.wasm"]) {
      await writeFile(join(root, name), new Uint8Array([0, 1, 2, 3]));
    }
    await symlink(secret, join(root, "link-out"));
    await symlink("..", join(root, "link-up"));
    await symlink("../root-evil/secret.txt", join(root, "link-sibling"));
    await symlink("hello.txt", join(root, "link-in"));
    await symlink(secret, join(root, "docs", "link-out"));
    await body({ base, root, secret });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/** Calls the handler for `path` and reads the whole body, so no file stays open. */
async function call(
  handler: (request: Request) => Promise<Response>,
  path: string,
  init?: RequestInit,
): Promise<{ response: Response; text: string }> {
  const response = await handler(new Request(`http://localhost${path}`, init));
  return { response, text: await response.text() };
}

function serve(fixture: Fixture, options?: FilesOptions) {
  return files(fixture.root, options);
}

test("files() serves a file with its type, length and validators", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/hello.txt");
    assert.equal(response.status, 200);
    assert.equal(text, "hello, world\n");
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(response.headers.get("content-length"), "13");
    assert.equal(response.headers.get("accept-ranges"), "bytes");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.match(response.headers.get("etag") ?? "", /^W\/".+"$/);
    assert.ok(!Number.isNaN(Date.parse(response.headers.get("last-modified") ?? "")));
  });
});

test("files() sends the Content-Type of each common extension", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const expected: Record<string, string> = {
      "/page.html": "text/html; charset=utf-8",
      "/app.js": "text/javascript; charset=utf-8",
      "/app.mjs": "text/javascript; charset=utf-8",
      "/style.css": "text/css; charset=utf-8",
      "/data.json": "application/json",
      "/logo.svg": "image/svg+xml",
      "/pic.png": "image/png",
      "/pic.jpg": "image/jpeg",
      "/pic.gif": "image/gif",
      "/pic.webp": "image/webp",
      "/favicon.ico": "image/x-icon",
      "/mod.wasm": "application/wasm",
      "/blob.unknownext": "application/octet-stream",
      "/LICENSE": "application/octet-stream",
      "/link-in": "application/octet-stream",
    };
    for (const [path, type] of Object.entries(expected)) {
      const { response } = await call(handler, path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("content-type"), type, path);
    }
  });
});

test("files() serves an empty file", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/empty.txt");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "0");
    assert.equal(text, "");
  });
});

test("files() answers HEAD with the GET headers and no body", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const get = await call(handler, "/digits.txt");
    const head = await handler(new Request("http://localhost/digits.txt", { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    for (
      const name of ["content-type", "content-length", "etag", "last-modified", "accept-ranges"]
    ) {
      assert.equal(head.headers.get(name), get.response.headers.get(name), name);
    }
    assert.equal(head.headers.get("content-length"), "100");
  });
});

test("files() answers 304 to a matching If-None-Match", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const etag = (await call(handler, "/hello.txt")).response.headers.get("etag")!;
    for (const value of [etag, etag.slice(2), `"nope", ${etag}`, "*"]) {
      const { response, text } = await call(handler, "/hello.txt", {
        headers: { "if-none-match": value },
      });
      assert.equal(response.status, 304, value);
      assert.equal(text, "");
      assert.equal(response.headers.get("etag"), etag);
    }
    const changed = await call(handler, "/hello.txt", { headers: { "if-none-match": '"nope"' } });
    assert.equal(changed.response.status, 200);
  });
});

test("files() answers 304 to an If-Modified-Since at or after Last-Modified", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const modified = (await call(handler, "/hello.txt")).response.headers.get("last-modified")!;
    const same = await call(handler, "/hello.txt", { headers: { "if-modified-since": modified } });
    assert.equal(same.response.status, 304);
    const earlier = new Date(Date.parse(modified) - 1000).toUTCString();
    const older = await call(handler, "/hello.txt", { headers: { "if-modified-since": earlier } });
    assert.equal(older.response.status, 200);
    assert.equal(older.text, "hello, world\n");
  });
});

test("files() lets If-None-Match take precedence over If-Modified-Since", async () => {
  await withFixture(async (fixture) => {
    const { response } = await call(serve(fixture), "/hello.txt", {
      headers: { "if-none-match": '"nope"', "if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT" },
    });
    assert.equal(response.status, 200);
  });
});

test("files() answers 206 with the first bytes to bytes=0-9", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/digits.txt", {
      headers: { range: "bytes=0-9" },
    });
    assert.equal(response.status, 206);
    assert.equal(text, "0123456789");
    assert.equal(response.headers.get("content-range"), "bytes 0-9/100");
    assert.equal(response.headers.get("content-length"), "10");
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  });
});

test("files() answers 206 with the last bytes to a suffix range", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/digits.txt", {
      headers: { range: "bytes=-10" },
    });
    assert.equal(response.status, 206);
    assert.equal(text, DIGITS.slice(90));
    assert.equal(response.headers.get("content-range"), "bytes 90-99/100");
  });
});

test("files() answers 206 to the end of the file for an open-ended range", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/digits.txt", {
      headers: { range: "bytes=5-" },
    });
    assert.equal(response.status, 206);
    assert.equal(text, DIGITS.slice(5));
    assert.equal(response.headers.get("content-range"), "bytes 5-99/100");
    assert.equal(response.headers.get("content-length"), "95");
  });
});

test("files() answers HEAD with a range with 206 headers and no body", async () => {
  await withFixture(async (fixture) => {
    const response = await serve(fixture)(
      new Request("http://localhost/digits.txt", {
        method: "HEAD",
        headers: { range: "bytes=0-9" },
      }),
    );
    assert.equal(response.status, 206);
    assert.equal(response.body, null);
    assert.equal(response.headers.get("content-range"), "bytes 0-9/100");
  });
});

test("files() answers 416 to an unsatisfiable range", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/digits.txt", {
      headers: { range: "bytes=100-" },
    });
    assert.equal(response.status, 416);
    assert.equal(response.headers.get("content-range"), "bytes */100");
    assert.ok(!text.includes(DIGITS.slice(0, 10)));
  });
});

test("files() sends the whole file for several ranges or a stale If-Range", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const multi = await call(handler, "/digits.txt", { headers: { range: "bytes=0-1,5-6" } });
    assert.equal(multi.response.status, 200);
    assert.equal(multi.text, DIGITS);
    const stale = await call(handler, "/digits.txt", {
      headers: { range: "bytes=0-9", "if-range": "Thu, 01 Jan 1970 00:00:00 GMT" },
    });
    assert.equal(stale.response.status, 200);
    assert.equal(stale.text, DIGITS);
    const modified = multi.response.headers.get("last-modified")!;
    const fresh = await call(handler, "/digits.txt", {
      headers: { range: "bytes=0-9", "if-range": modified },
    });
    assert.equal(fresh.response.status, 206);
  });
});

test("files() serves the index.html of a directory", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/site/");
    assert.equal(response.status, 200);
    assert.equal(text, "<p>site</p>");
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  });
});

test("files() serves the configured index file", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture, { index: "a.txt" }), "/docs/");
    assert.equal(response.status, 200);
    assert.equal(text, "a");
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  });
});

test("files() lists a directory when index is false", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture, { index: false }), "/site/");
    assert.equal(response.status, 200);
    assert.ok(text.includes('<a href="index.html">index.html</a>'));
  });
});

test("files() lists a directory without index, hiding dotfiles and links out", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/docs/");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(
      response.headers.get("content-length"),
      String(new TextEncoder().encode(text).length),
    );
    const hrefs = [...text.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(hrefs, ["../", "sub/", encodeURIComponent(HOSTILE), "B.txt", "a.txt"]);
    assert.ok(text.includes("<title>Index of /docs/</title>"));
    assert.ok(!text.includes(".note"));
    assert.ok(!text.includes("link-out"));
  });
});

test("files() escapes a hostile file name in the listing text and href", async () => {
  await withFixture(async (fixture) => {
    const { text } = await call(serve(fixture), "/docs/");
    assert.ok(!text.includes(HOSTILE));
    assert.ok(!text.includes("<img"));
    assert.ok(text.includes(`>&lt;img src=x onerror=alert(1)&gt;</a>`));
    assert.ok(text.includes(`href="%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"`));
  });
});

test("files() serves the file a hostile listing link points to", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), `/docs/${encodeURIComponent(HOSTILE)}`);
    assert.equal(response.status, 200);
    assert.equal(text, "x");
  });
});

test("files() lists the root without a parent link", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/");
    assert.equal(response.status, 200);
    assert.ok(!text.includes('href="../"'));
    assert.ok(text.includes('href="caf%C3%A9/"'));
    assert.ok(text.includes('href="link-in"'));
    for (const hidden of [".env", ".git", "link-out", "link-up", "link-sibling"]) {
      assert.ok(!text.includes(hidden), hidden);
    }
  });
});

test("files() lists the first 1,000 of 5,000 entries by default, and notes the rest", async () => {
  const base = await mkdtemp(join(tmpdir(), "wsport-many-"));
  try {
    const names = Array.from({ length: 5_000 }, (_, i) => `f${String(i).padStart(4, "0")}.txt`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((name) => writeFile(join(base, name), "x")));
    }
    const { response, text } = await call(files(base), "/");
    assert.equal(response.status, 200);
    const listed = [...text.matchAll(/<a href="([^"]*)">/g)].map((match) => match[1]);
    assert.deepEqual(listed, names.slice(0, 1_000));
    assert.ok(text.includes("… and 4000 more entries not listed."));
    const capped = await call(files(base, { maxListingEntries: 10 }), "/");
    assert.equal([...capped.text.matchAll(/<a href=/g)].length, 10);
    assert.ok(capped.text.includes("… and 4990 more entries not listed."));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("files() answers HEAD for a listing with its headers and no body", async () => {
  await withFixture(async (fixture) => {
    const response = await serve(fixture)(
      new Request("http://localhost/docs/", { method: "HEAD" }),
    );
    assert.equal(response.status, 200);
    assert.equal(response.body, null);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  });
});

test("files() answers 404 to a directory when listing is off", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture, { listDirectories: false });
    assert.equal((await call(handler, "/docs/")).response.status, 404);
    assert.equal((await call(handler, "/")).response.status, 404);
    assert.equal((await call(handler, "/site/")).response.status, 200);
  });
});

test("files() redirects a directory without its trailing slash, keeping the query", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const docs = await call(handler, "/docs?sort=name&x=1");
    assert.equal(docs.response.status, 301);
    assert.equal(docs.response.headers.get("location"), "/docs/?sort=name&x=1");
    const cafe = await call(handler, "/caf%C3%A9");
    assert.equal(cafe.response.status, 301);
    assert.equal(cafe.response.headers.get("location"), "/caf%C3%A9/");
  });
});

test("files() answers 404 to a file asked for with a trailing slash", async () => {
  await withFixture(async (fixture) => {
    assert.equal((await call(serve(fixture), "/hello.txt/")).response.status, 404);
  });
});

test("files() answers 404 to a missing file", async () => {
  await withFixture(async (fixture) => {
    const { response, text } = await call(serve(fixture), "/nope.txt");
    assert.equal(response.status, 404);
    assert.equal(text, "Not Found");
  });
});

/**
 * Paths that try to reach the secret outside root, as a client would write them: many
 * are changed by the URL parser (`new Request()` turns `/../secret.txt` into
 * `/secret.txt`), so they are sent as raw request lines or as a `url` the handler gets
 * unparsed, never through `new Request()`.
 */
function traversalAttempts(fixture: Fixture): string[] {
  return [
    "/../secret.txt",
    "/../../secret.txt",
    "/docs/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/docs/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/docs%2f..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/%5c..%5csecret.txt",
    "/%2e%2e%5c%2e%2e%5csecret.txt",
    "/..\\secret.txt",
    "/docs\\..\\..\\secret.txt",
    "/%252e%252e/secret.txt",
    "/%252e%252e%252fsecret.txt",
    "/..%255csecret.txt",
    "/secret.txt%00.html",
    "/..%00/secret.txt",
    "/hello.txt%00/../../secret.txt",
    `/${encodeURIComponent(fixture.secret)}`,
    `/${fixture.secret}`,
    "/..;/secret.txt",
    "/.../secret.txt",
    "/../root-evil/secret.txt",
    "/link-out",
    "/link-up/secret.txt",
    "/link-up/root-evil/secret.txt",
    "/link-sibling",
    "/docs/link-out",
  ];
}

/**
 * A GET as `Deno.serve` hands it to a handler: its `url` exactly as the request line
 * wrote it. `new Request()` cannot make one, as it normalises the URL.
 */
function unparsedRequest(path: string): Request {
  return {
    method: "GET",
    url: `http://localhost${path}`,
    headers: new Headers(),
  } as unknown as Request;
}

const rawGet = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

test("files() refuses traversal attempts as written with 404 and never sends a secret", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture, { dotfiles: true });
    const attempts = traversalAttempts(fixture);
    assert.ok(new Set(attempts).size >= 20);
    // At least eleven would not reach files() as written through `new Request()`.
    const normalised = attempts.filter((path) => {
      const url = unparsedRequest(path).url;
      return new Request(url).url !== url;
    });
    assert.ok(normalised.length >= 11, `only ${normalised.length} are changed by the URL parser`);
    const rootReal = (await resolveRoot(fixture.root))!;
    for (const path of attempts) {
      // The path as files() splits it, were it never parsed as a URL: refused, or naming
      // nothing servable inside root.
      const split = safePath(path);
      if (split.ok) {
        assert.equal(await resolveInside(rootReal, split.segments, true), null, path);
      } else {
        assert.equal(split.status, 404, path);
      }
      const response = await handler(unparsedRequest(path));
      const text = await response.text();
      assert.equal(response.status, 404, path);
      assert.equal(text, "Not Found", path);
    }
  });
});

for (const pair of pairs) {
  test(`files() on ${pair.name} refuses traversal attempts sent as raw request lines`, async () => {
    await withFixture(async (fixture) => {
      const handler = serve(fixture, { dotfiles: true });
      const seen: string[] = [];
      const site = new WebSocketSite((request) => {
        seen.push(request.url);
        return handler(request);
      });
      await withSite(site, pair, async (server) => {
        const attempts = traversalAttempts(fixture);
        for (const path of attempts) {
          seen.length = 0;
          const response = await rawRequest(server.port, rawGet(path));
          assert.equal(response.status, 404, path);
          assert.equal(response.body, "Not Found", path);
          assert.equal(seen.length, 1, `${path} reached files()`);
          // Deno.serve passes the request line's path on unparsed; the Node adapter and
          // Bun.serve normalise it first.
          if (pair.adapter === "deno") assert.equal(seen[0], `http://127.0.0.1${path}`);
        }
        // Bytes no request line may hold: the server refuses them before files() runs
        // (Bun.serve with 505 rather than 400).
        for (const path of ["/secret.txt\0.html", "/..\t/secret.txt"]) {
          seen.length = 0;
          const response = await rawRequest(server.port, rawGet(path));
          assert.equal(response.status, pair.adapter === "bun" ? 505 : 400, JSON.stringify(path));
          assert.ok(!response.body.includes(SECRET), JSON.stringify(path));
          assert.equal(seen.length, 0, JSON.stringify(path));
        }
      });
    });
  });
}

for (const pair of pairs) {
  test(`files() on ${pair.name} sends Content-Length for files and ranges, not chunks`, async () => {
    await withFixture(async (fixture) => {
      const large = DIGITS.repeat(2_000);
      await writeFile(join(fixture.root, "large.txt"), large);
      const site = new WebSocketSite(serve(fixture));
      await withSite(site, pair, async (server) => {
        const cases: [string, string | undefined, string][] = [
          ["/hello.txt", undefined, "hello, world\n"],
          ["/empty.txt", undefined, ""],
          ["/large.txt", undefined, large],
          ["/large.txt", "bytes=70000-", large.slice(70_000)],
          ["/digits.txt", "bytes=10-19", DIGITS.slice(10, 20)],
          ["/link-in", undefined, "hello, world\n"],
        ];
        for (const [path, range, expected] of cases) {
          const what = `${path} ${range ?? ""}`;
          const response = await rawRequest(
            server.port,
            rawGet(path).replace("\r\n\r\n", range ? `\r\nRange: ${range}\r\n\r\n` : "\r\n\r\n"),
          );
          assert.equal(response.status, range ? 206 : 200, what);
          assert.equal(response.headers.get("content-length"), String(expected.length), what);
          assert.equal(response.headers.get("transfer-encoding"), null, what);
          assert.equal(response.headers.get("content-type"), contentType(path), what);
          assert.equal(response.body, expected, what);
          // Bun names a file body's file: not the name on disk behind a link, nor any.
          assert.ok(
            [null, "inline"].includes(response.headers.get("content-disposition")),
            `${what}: ${response.headers.get("content-disposition")}`,
          );
        }
      });
    });
  });
}

for (const pair of pairs) {
  test(`files() on ${pair.name} closes the file when the client leaves mid-body`, {
    skip: !existsSync("/proc/self/fd") && "needs /proc/self/fd to count open files",
  }, async () => {
    const base = await mkdtemp(join(tmpdir(), "wsport-leave-"));
    try {
      const size = 8 * 1024 ** 3; // sparse: far more than can be read before the check ends
      const handle = await open(join(base, "large.bin"), "w");
      await handle.truncate(size);
      await handle.close();
      const path = join(base, "large.bin");
      const site = new WebSocketSite(files(base));
      await withSite(site, pair, async (server) => {
        const fileOpen = async () => {
          for (const fd of await readdir("/proc/self/fd")) {
            if (await readlink(`/proc/self/fd/${fd}`).catch(() => "") === path) return true;
          }
          return false;
        };
        // The client reads the head and a little of the body, then drops the connection.
        const socket = connect(server.port, "127.0.0.1");
        await within(
          new Promise<void>((resolve, reject) => {
            let received = 0;
            socket.once("error", reject);
            socket.on("data", (chunk: Uint8Array) => {
              received += chunk.length;
              if (received >= 256 * 1024) resolve();
            });
            socket.write(rawGet("/large.bin"));
          }),
          "the first bytes of the body",
        );
        socket.destroy();
        let open = await fileOpen();
        for (let turn = 0; open && turn < 200; turn++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          open = await fileOpen();
        }
        assert.equal(open, false, "the file is still open after the client left");
      });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
}

test("files() answers 400 to a malformed percent-encoding", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    for (const path of ["/%", "/%zz", "/a%2", "/%c0%ae%c0%ae/secret.txt", "/%E0%A4%A"]) {
      const { response, text } = await call(handler, path);
      assert.equal(response.status, 400, path);
      assert.equal(text, "Bad Request");
    }
  });
});

test("files() refuses a symlink out of root and follows one inside it", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    const out = await call(handler, "/link-out");
    assert.equal(out.response.status, 404);
    assert.ok(!out.text.includes(SECRET));
    const inside = await call(handler, "/link-in");
    assert.equal(inside.response.status, 200);
    assert.equal(inside.text, "hello, world\n");
  });
});

test("files() hides dotfiles unless dotfiles is true", async () => {
  await withFixture(async (fixture) => {
    const hidden = serve(fixture);
    for (const path of ["/.env", "/.git/config", "/.git/", "/docs/.note", "/%2eenv"]) {
      const { response, text } = await call(hidden, path);
      assert.equal(response.status, 404, path);
      assert.ok(!text.includes("DOT ENV") && !text.includes("[core]"), path);
    }
    const shown = serve(fixture, { dotfiles: true });
    assert.equal((await call(shown, "/.env")).text, "DOT ENV");
    assert.equal((await call(shown, "/.git/config")).text, "[core]");
    assert.ok((await call(shown, "/docs/")).text.includes('href=".note"'));
  });
});

test("files() answers 405 with Allow to other methods", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const { response } = await call(handler, "/hello.txt", { method });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
    }
  });
});

test("files() reveals no file-system path in error responses", async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture);
    for (const path of ["/nope", "/%zz", "/link-out", "/../secret.txt", "/hello.txt/"]) {
      const { text } = await call(handler, path);
      assert.ok(!text.includes(fixture.base), path);
    }
    const broken = {
      method: "GET",
      headers: new Headers(),
      get url(): string {
        throw new Error(`failed at ${fixture.root}`);
      },
    } as unknown as Request;
    const response = await handler(broken);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "Internal Server Error");
  });
});

test("files() answers 404 when the root does not exist", async () => {
  await withFixture(async (fixture) => {
    const { response } = await call(files(join(fixture.base, "missing")), "/hello.txt");
    assert.equal(response.status, 404);
  });
});

test("files() accepts the root as a file: URL", async () => {
  await withFixture(async (fixture) => {
    const { text } = await call(files(pathToFileURL(fixture.root)), "/hello.txt");
    assert.equal(text, "hello, world\n");
  });
});

test("files() rejects a bad chunkBytes, maxListingEntries or index", () => {
  for (const value of [0, -1, 1.5, Number.NaN, Infinity]) {
    for (const name of ["chunkBytes", "maxListingEntries"]) {
      assert.throws(() => files(".", { [name]: value }), {
        name: "RangeError",
        message:
          `files(): option "${name}" must be an integer of at least 1, got the number ${value}`,
      });
    }
  }
  for (const index of ["", ".", "..", "a/b", "a\\b", "a\0b", true, 7]) {
    assert.throws(() => files(".", { index: index as string }), {
      name: "TypeError",
      message: new RegExp(
        `^files\\(\\): option "index" must be false or a plain file name, got the`,
      ),
    });
  }
});

test("files() rejects unknown option names and options of the wrong type, naming them", () => {
  const cases: [unknown, unknown, string][] = [
    [
      ".",
      { listDirectory: false },
      'unknown option "listDirectory"; the options are ' +
      "listDirectories, dotfiles, index, chunkBytes, maxListingEntries",
    ],
    [
      ".",
      { listDirectories: "false" },
      'option "listDirectories" must be a boolean, got the string "false"',
    ],
    [".", { dotfiles: 1 }, 'option "dotfiles" must be a boolean, got the number 1'],
    [
      ".",
      { chunkBytes: "64k" },
      'option "chunkBytes" must be an integer of at least 1, got the string "64k"',
    ],
    [".", "public", 'options must be an object, got the string "public"'],
    [".", null, "options must be an object, got null"],
    [42, {}, "root must be a path or a file: URL, got the number 42"],
    [
      new URL("http://localhost/"),
      {},
      "root must be a path or a file: URL, got an instance of URL",
    ],
  ];
  for (const [root, options, message] of cases) {
    assert.throws(
      () => files(root as string, options as FilesOptions),
      { name: "TypeError", message: `files(): ${message}` },
      message,
    );
  }
});

test("files() leaves no file open after any kind of response", {
  skip: !existsSync("/proc/self/fd") && "needs /proc/self/fd to count open files",
}, async () => {
  await withFixture(async (fixture) => {
    const handler = serve(fixture, { chunkBytes: 10 });
    const openFiles = async () => (await readdir("/proc/self/fd")).length;
    const before = await openFiles();
    await call(handler, "/digits.txt");
    await call(handler, "/digits.txt", { method: "HEAD" });
    await call(handler, "/digits.txt", { headers: { "if-none-match": "*" } });
    await call(handler, "/digits.txt", { headers: { range: "bytes=5-" } });
    await call(handler, "/digits.txt", { headers: { range: "bytes=100-" } });
    await call(handler, "/docs/");
    await call(handler, "/site/");
    await call(handler, "/nope");
    const unread = await handler(new Request("http://localhost/digits.txt"));
    await unread.body!.cancel();
    const reader = (await handler(new Request("http://localhost/digits.txt"))).body!.getReader();
    assert.equal((await reader.read()).value?.length, 10);
    await reader.cancel();
    assert.equal(await openFiles(), before);
  });
});

test("files() streams a 512 MiB file in full without holding it in memory", async () => {
  const base = await mkdtemp(join(tmpdir(), "wsport-large-"));
  try {
    const size = 512 * 1024 * 1024;
    const handle = await open(join(base, "large.bin"), "w");
    await handle.truncate(size);
    await handle.close();
    const before = process.memoryUsage().rss;
    let peak = before;
    const response = await files(base)(new Request("http://localhost/large.bin"));
    assert.equal(response.headers.get("content-length"), String(size));
    let received = 0;
    let chunks = 0;
    for await (const chunk of response.body!) {
      received += chunk.length;
      if (++chunks % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(received, size);
    assert.ok(peak - before < 128 * 1024 * 1024, `RSS grew by ${peak - before} bytes`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

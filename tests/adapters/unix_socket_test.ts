/**
 * `serve(site, { path })` on every adapter this runtime offers: a Unix domain socket
 * instead of a TCP port, reached by `ws` (a `ws+unix:` URL) and by plain HTTP over the same
 * socket; the socket file is gone after shutdown.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { serve } from "../../src/adapters/serve.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { within } from "../helpers/client.ts";
import { wsEcho } from "../helpers/echo_client.ts";
import { Echo, pairs } from "../helpers/server.ts";

const dir = mkdtempSync(join(tmpdir(), "wsport-unix-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const skip = process.platform === "win32" && "Unix domain sockets are for Linux and macOS";

/** Sends a GET over the socket at `path` and reads the whole answer (the server closes). */
function getOver(path: string, target: string): Promise<string> {
  return within(
    new Promise((resolve, reject) => {
      const socket = connect(path);
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => text += chunk);
      socket.on("error", reject);
      socket.on("close", () => resolve(text));
      socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    }),
    `GET ${target} over ${path}`,
  );
}

for (const pair of pairs) {
  test(`serve(site, { path }) on ${pair.name}: WebSockets and plain HTTP over a Unix socket`, {
    skip,
  }, async () => {
    const path = join(dir, `${pair.adapter}.sock`);
    const site = new WebSocketSite(() => new Response("plain over unix"));
    site.addHandler("/echo", Echo);
    const server = await serve(site, { path, adapter: pair.adapter });
    try {
      assert.equal(server.path, path);
      assert.equal(server.port, 0);
      assert.equal(server.hostname, "");
      assert.ok(existsSync(path), "the socket file exists while it listens");
      assert.deepEqual(
        // ws's form of a URL over a Unix socket: ws+unix://<socket path>:<request path>
        await wsEcho(`ws+unix://${path}:/echo`, { messages: ["a", "b"] }),
        { echoes: ["a", "b"], code: 1000 },
      );
      const answer = await getOver(path, "/");
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.ok(answer.includes("\r\n\r\n") && answer.includes("plain over unix"), answer);
    } finally {
      await within(server.shutdown(), `${pair.name} shutting down`);
      await within(server.finished, `${pair.name} finishing`);
    }
    assert.ok(!existsSync(path), "the socket file is removed at shutdown");
  });
}

/**
 * `serve(site, { tls })` on every adapter this runtime offers: `wss://` with real
 * clients (`ws` with the CA, Python's `websockets` with a CA file, headless Chromium
 * ignoring certificate errors), an encrypted key, and on the Node adapter the handshake
 * deadline counted from the TCP accept, through a TLS handshake that never ends.
 */
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { WebSocketSite } from "../../src/site/site.ts";
import { certificate, opensslMissing } from "../helpers/certificate.ts";
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING } from "../helpers/chromium.ts";
import { Child } from "../helpers/child.ts";
import { within } from "../helpers/client.ts";
import { wsEcho } from "../helpers/echo_client.ts";
import { skipUnless, unavailable } from "../helpers/required.ts";
import { Echo, type Pair, pairs, withSite } from "../helpers/server.ts";
import type { Server } from "../../src/adapters/server.ts";

const skip = skipUnless("openssl", opensslMissing);

const PYTHON = "/usr/bin/python3";
const skipPython = skip || skipUnless(
  "python",
  await unavailable({
    command: [PYTHON, "-c", "import websockets"],
    missing: `${PYTHON} is not installed`,
    failing: "python3-websockets is not installed (apt-get install python3-websockets)",
  }),
);
const skipChromium = skip || skipUnless(
  "chromium",
  await unavailable(
    { file: CHROMIUM, missing: CHROMIUM_MISSING },
    { module: "playwright-core", missing: "playwright-core is not installed" },
  ),
);

const echoSite = (limits: { handshakeTimeoutMs?: number } = {}) => {
  const site = new WebSocketSite(undefined, { limits });
  site.addHandler("/echo", Echo);
  return site;
};

const wssUrl = (server: Server) => `wss://127.0.0.1:${server.port}/echo`;

/** Runs a program to its end (at most 20 s) and returns what it printed. */
async function run(command: string[], name: string): Promise<string> {
  const child = new Child(command, { name, input: "" });
  let code: number | null;
  try {
    code = await child.exitCode(20_000);
  } finally {
    await child.kill();
  }
  assert.equal(code, 0, `${name} failed: ${child.output}`);
  return child.stdout;
}

/** GETs `url` with `node:https`, trusting `ca`, and gives the body. */
function httpsGet(url: string, ca: string): Promise<string> {
  return within(
    new Promise((resolve, reject) => {
      const request = httpsRequest(url, { ca }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => body += chunk);
        response.on("end", () => resolve(body));
      });
      request.on("error", reject);
      request.end();
    }),
    `GET ${url}`,
  );
}

const PYTHON_CLIENT = `
import asyncio, json, ssl, sys
import websockets
async def main():
    context = ssl.create_default_context(cafile=sys.argv[2])
    async with websockets.connect(sys.argv[1], ssl=context, open_timeout=10) as socket:
        await socket.send("hello")
        echo = await asyncio.wait_for(socket.recv(), 10)
    print(json.dumps({"echo": echo, "code": socket.close_code}))
asyncio.run(main())
`;

/** The slice of playwright-core used here. */
interface Browser {
  newPage(): Promise<{ evaluate<R, A>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> }>;
  close(): Promise<void>;
}

/** Runs in the page: one echo, then the close code. */
function echoInPage(url: string): Promise<{ echo: string; code: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let echo = "";
    const timer = setTimeout(() => reject(new Error("no echo after 10 s")), 10_000);
    socket.onerror = () => reject(new Error(`could not use ${url}`));
    socket.onopen = () => socket.send("hello");
    socket.onmessage = (event) => {
      echo = event.data;
      socket.close(1000);
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      resolve({ echo, code: event.code });
    };
  });
}

/** How long a raw TCP client that `opening` sends stays connected, in ms (at most `ms`). */
async function heldFor(port: number, opening: Uint8Array, ms: number): Promise<number> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const start = performance.now();
  await within(new Promise((resolve) => socket.once("connect", resolve)), "connecting");
  if (opening.length > 0) socket.write(opening);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([closed, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
  socket.destroy();
  return performance.now() - start;
}

/**
 * The first 14 bytes of a ClientHello: a handshake record announcing 512 bytes, of which
 * a ClientHello header and a version arrive.
 */
const HALF_CLIENT_HELLO = new Uint8Array([
  0x16,
  0x03,
  0x01,
  0x02,
  0x00,
  0x01,
  0x00,
  0x01,
  0xfc,
  0x03,
  0x03,
  0x01,
  0x02,
  0x03,
]);

for (const pair of pairs) {
  describe(`${pair.name}: serve(site, { tls })`, { skip }, () => {
    test("serves wss:// to ws trusting the certificate as its CA", async () => {
      const { cert, key, caFile } = certificate();
      await withSite(echoSite(), pair, async (server) => {
        assert.deepEqual(await wsEcho(wssUrl(server), { ca: caFile, messages: ["a", "b"] }), {
          echoes: ["a", "b"],
          code: 1000,
        });
      }, { tls: { cert, key } });
    });

    test("gives handlers and the HTTP handler the request with its https: URL", async () => {
      const { cert, key, caFile } = certificate();
      const site = new WebSocketSite((request) => new Response(request.url));
      class Url extends Echo {
        override frameReceived(): void {
          this.transport.write(this.transport.request.url);
        }
      }
      site.addHandler("/url", Url);
      await withSite(site, pair, async (server) => {
        const base = `127.0.0.1:${server.port}`;
        assert.deepEqual(await wsEcho(`wss://${base}/url?a=1`, { ca: caFile }), {
          echoes: [`https://${base}/url?a=1`],
          code: 1000,
        });
        assert.equal(await httpsGet(`https://${base}/page`, cert), `https://${base}/page`);
      }, { tls: { cert, key } });
    });

    test("takes the certificate and key as bytes, and an encrypted key with its passphrase", async () => {
      const { cert, encryptedKey, passphrase, caFile } = certificate();
      const bytes = (text: string) => new TextEncoder().encode(text);
      const tls = { cert: bytes(cert), key: bytes(encryptedKey), passphrase, ca: [cert] };
      await withSite(echoSite(), pair, async (server) => {
        assert.deepEqual(await wsEcho(wssUrl(server), { ca: caFile }), {
          echoes: ["hello"],
          code: 1000,
        });
      }, { tls });
    });

    test("serves wss:// to Python's websockets with a CA file", { skip: skipPython }, async () => {
      const { cert, key, caFile } = certificate();
      await withSite(echoSite(), pair, async (server) => {
        const output = await run([PYTHON, "-c", PYTHON_CLIENT, wssUrl(server), caFile], "python");
        assert.deepEqual(JSON.parse(output), { echo: "hello", code: 1000 });
      }, { tls: { cert, key } });
    });

    describe("headless Chromium", { skip: skipChromium }, () => {
      let browser: Browser;
      before(async () => {
        const { chromium } = await import("playwright-core");
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: [...CHROMIUM_ARGS, "--ignore-certificate-errors"],
        }) as unknown as Browser;
      });
      after(() => browser?.close());

      test("serves wss:// to Chromium ignoring certificate errors", async () => {
        const { cert, key } = certificate();
        await withSite(echoSite(), pair, async (server) => {
          const page = await browser.newPage();
          assert.deepEqual(await page.evaluate(echoInPage, wssUrl(server)), {
            echo: "hello",
            code: 1000,
          });
        }, { tls: { cert, key } });
      });
    });

    deadlineTests(pair);
  });
}

/** The handshake deadline through TLS: what each pair bounds, and a connection it must not cut. */
function deadlineTests(pair: Pair): void {
  const handshakeTimeoutMs = 300;
  // Only the Node adapter sees a TCP connection before its TLS handshake ends, and not on
  // Bun, whose node:https reports it once secure. Elsewhere the runtime decides: Bun's
  // idleTimeout (10 s), never on Deno.serve (docs/runtimes.md).
  const bounded = pair.adapter === "node" && pair.runtime !== "bun";

  for (
    const [name, opening] of [["sends nothing", new Uint8Array()], [
      "sends half a ClientHello",
      HALF_CLIENT_HELLO,
    ]] as const
  ) {
    const title = bounded
      ? `drops a client that ${name} at handshakeTimeoutMs from the accept`
      : `cannot drop a client that ${name} at handshakeTimeoutMs (the runtime's TLS)`;
    test(title, async () => {
      const { cert, key } = certificate();
      await withSite(echoSite({ handshakeTimeoutMs }), pair, async (server) => {
        if (bounded) {
          const held = await heldFor(server.port, opening, 5_000);
          assert.ok(held >= handshakeTimeoutMs - 50, `dropped after ${held} ms, too soon`);
          assert.ok(held < 2_000, `held for ${held} ms`);
        } else {
          const held = await heldFor(server.port, opening, 3 * handshakeTimeoutMs);
          assert.ok(held >= 3 * handshakeTimeoutMs - 20, `dropped after ${held} ms`);
        }
      }, { tls: { cert, key } });
    });
  }

  test("a wss:// connection outlives the handshake deadline of its TCP socket", async () => {
    const { cert, key, caFile } = certificate();
    const site = new WebSocketSite(undefined, { limits: { handshakeTimeoutMs } });
    class Slow extends Echo {
      override async frameReceived(frame: string | Uint8Array): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 3 * handshakeTimeoutMs));
        this.transport.write(frame);
      }
    }
    site.addHandler("/echo", Slow);
    await withSite(site, pair, async (server) => {
      assert.deepEqual(await wsEcho(wssUrl(server), { ca: caFile, messages: ["a", "b"] }), {
        echoes: ["a", "b"],
        code: 1000,
      });
    }, { tls: { cert, key } });
  });
}

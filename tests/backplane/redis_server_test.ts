/**
 * Two wsport processes sharing topics through a real `redis-server`, which is stopped and
 * started again mid-test, on every adapter this runtime offers. Skipped when
 * `redis-server` is not installed (Debian: `apt-get install redis-server`).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { test } from "node:test";
import type { AdapterName } from "../../src/adapters/server.ts";
import { Client, within } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { pairs, runtime } from "../helpers/server.ts";

const installed = spawnSync("redis-server", ["--version"]).status === 0;
const skip = installed ? false : "redis-server is not installed (apt-get install redis-server)";

/** A free loopback port, for a server that cannot be told to pick one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output lines can be awaited. */
class Child {
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;
  #output = "";
  #waiters: (() => void)[] = [];

  constructor(command: string[], env: Record<string, string> = {}) {
    const [program, ...args] = command;
    this.#process = spawn(program, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#exited = new Promise((resolve) => this.#process.once("exit", () => resolve()));
    for (const stream of [this.#process.stdout!, this.#process.stderr!]) {
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => {
        this.#output += text;
        this.#waiters.splice(0).forEach((wake) => wake());
      });
    }
    this.#exited.then(() => this.#waiters.splice(0).forEach((wake) => wake()));
  }

  /** Resolves once `text` has been printed `count` times in all. */
  printed(text: string, count = 1): Promise<void> {
    const seen = () => this.#output.split(text).length - 1 >= count;
    return within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (seen()) resolve();
          else if (this.#process.exitCode !== null || this.#process.signalCode !== null) {
            reject(new Error(`Exited before printing "${text}" ×${count}:\n${this.#output}`));
          } else this.#waiters.push(check);
        };
        check();
      }),
      `"${text}" ×${count} in:\n${this.#output}`,
    );
  }

  get output(): string {
    return this.#output;
  }

  /** Closes stdin (the wsport children shut down on it), then kills what is left. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.#process.stdin!.end();
    try {
      await within(this.#exited, "the child to exit on its own", 3_000);
    } catch {
      this.#process.kill(signal);
      await within(this.#exited, "the child to exit");
    }
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    this.#process.kill(signal);
    return within(this.#exited, "the child to exit");
  }
}

/** Starts `redis-server` on `port`, keeping nothing on disk. */
async function startRedis(port: number): Promise<Child> {
  const redis = new Child([
    "redis-server",
    "--save",
    "",
    "--appendonly",
    "no",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
  ]);
  await redis.printed("Ready to accept connections");
  return redis;
}

/** Starts a wsport process (`redis_site.ts`) on `adapter`, in this runtime. */
async function startSite(adapter: AdapterName, redisUrl: string): Promise<Child> {
  const script = "tests/backplane/redis_site";
  const command = runtime === "deno"
    ? [process.execPath, "run", "--allow-all", `${script}.ts`]
    : runtime === "bun"
    ? [process.execPath, `${script}.ts`]
    : [process.execPath, `.build/${script}.js`];
  const child = new Child(command, { REDIS_URL: redisUrl, WSPORT_ADAPTER: adapter });
  await child.printed("serving ");
  return child;
}

/** A client in the room of the site that `child` serves; resolves once it joined. */
async function join(child: Child): Promise<Client> {
  const port = /serving (\d+)/.exec(child.output)![1];
  const client = await Client.open(`ws://127.0.0.1:${port}/room`);
  assert.equal(await client.next(), "joined");
  return client;
}

for (const pair of pairs) {
  test(
    `two processes on ${pair.name} share topics through redis-server, across its restart`,
    { skip },
    async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      let redis = await startRedis(port);
      const sites: Child[] = [];
      const clients: Client[] = [];
      try {
        sites.push(
          ...await Promise.all([startSite(pair.adapter, url), startSite(pair.adapter, url)]),
        );
        await Promise.all(sites.map((site) => site.printed("status up")));
        const [a, local] = [await join(sites[0]), await join(sites[0])];
        const b = await join(sites[1]);
        clients.push(a, local, b);

        // Across processes once, never back to the sender, text and bytes alike.
        a.send("one");
        a.send(new Uint8Array([1, 2, 255]));
        assert.deepEqual(await b.take(2), ["one", new Uint8Array([1, 2, 255])]);
        assert.deepEqual(await local.take(2), ["one", new Uint8Array([1, 2, 255])]);
        b.send("two");
        assert.equal(await a.next(), "two", "a got nothing of its own before");
        assert.equal(await local.next(), "two", "local got a's messages once");
        a.send("three");
        assert.equal(await b.next(), "three", "b got a's messages once and not its own");
        assert.equal(await local.next(), "three");

        // Redis stops: each process says so, and delivers inside itself meanwhile.
        await redis.kill("SIGTERM");
        await Promise.all(sites.map((site) => site.printed("status down")));
        a.send("while down");
        assert.equal(await local.next(), "while down");

        // Redis is back: across processes again, and nothing stale comes through.
        redis = await startRedis(port);
        await Promise.all(sites.map((site) => site.printed("status up", 2)));
        a.send("after restart");
        assert.equal(await b.next(), "after restart");
        assert.equal(await local.next(), "after restart");
        b.send("four");
        assert.equal(await a.next(), "four");
        assert.equal(await local.next(), "four");
        a.send("five");
        assert.equal(await b.next(), "five", "b got each message once");
      } finally {
        for (const client of clients) await client.closeAndWait();
        await Promise.all(sites.map((site) => site.stop()));
        await redis.stop();
      }
    },
  );
}

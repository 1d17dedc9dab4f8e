/**
 * Child processes whose output can be awaited, and a throwaway `redis-server`, for the
 * tests that run wsport processes sharing topics through Redis.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { within } from "./client.ts";
import { repoRoot } from "./paths.ts";
import { skipUnless, unavailable } from "./required.ts";

/**
 * `false` when `redis-server` is installed, else why the tests that need it are skipped
 * (for `test(name, { skip: redisSkip }, ...)`); a failure when WSPORT_REQUIRE names redis.
 */
export const redisSkip: false | string = skipUnless(
  "redis",
  await unavailable({
    command: ["redis-server", "--version"],
    missing: "redis-server is not installed (apt-get install redis-server)",
  }),
);

/** A free loopback port, for a server that cannot be told to pick one. */
export function freePort(): Promise<number> {
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
export class Child {
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
export async function startRedis(port: number): Promise<Child> {
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

/**
 * A child process for tests that run a program beside them (an example, a wsport process
 * sharing a backplane, `redis-server`, a peer client): its output can be awaited, its exit
 * is bounded in time, and it is always started in the repository's root.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { within } from "./client.ts";
import { repoRoot } from "./paths.ts";

/** How to start a {@linkcode Child}. */
export interface ChildOptions {
  /** What to call it in messages. @default the program's file name */
  name?: string;
  /** Variables added to this process's environment (`NO_COLOR=1` is always added). */
  env?: Record<string, string>;
  /**
   * Text written to its stdin, which is then closed. Without it stdin stays open until
   * {@linkcode Child.stop} (wsport's test programs shut down when it closes).
   */
  input?: string;
}

/** A running child process whose output lines can be awaited. */
export class Child {
  /** What it is called in messages. */
  readonly name: string;
  readonly #process: ChildProcess;
  readonly #closed: Promise<number | null>;
  #stdout = "";
  #output = "";
  #waiters: (() => void)[] = [];
  #done = false;

  /** Starts `command` (program, then arguments) in the repository's root. */
  constructor(command: readonly string[], options: ChildOptions = {}) {
    const [program, ...args] = command;
    this.name = options.name ?? program.split("/").at(-1)!;
    this.#process = spawn(program, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const wake = () => this.#waiters.splice(0).forEach((waiter) => waiter());
    // "close" rather than "exit": by then everything it printed has been read.
    this.#closed = new Promise((resolve) => {
      this.#process.once("error", (error) => {
        this.#output += error.message;
        resolve(null);
      });
      this.#process.once("close", (code) => resolve(code));
    });
    this.#closed.then(() => {
      this.#done = true;
      wake();
    });
    this.#process.stdout!.setEncoding("utf8").on("data", (text: string) => {
      this.#stdout += text;
      this.#output += text;
      wake();
    });
    this.#process.stderr!.setEncoding("utf8").on("data", (text: string) => {
      this.#output += text;
      wake();
    });
    this.#process.stdin!.on("error", () => {}); // It may exit before reading its input.
    if (options.input !== undefined) this.#process.stdin!.end(options.input);
  }

  /** What it printed to stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** What it printed to stdout and stderr so far, as it came. */
  get output(): string {
    return this.#output;
  }

  /** Resolves once `text` has been printed `count` times in all; fails if it exits first. */
  printed(text: string, count = 1): Promise<void> {
    const seen = () => this.#output.split(text).length - 1 >= count;
    return within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (seen()) resolve();
          else if (this.#done) {
            reject(
              new Error(
                `${this.name} exited before printing "${text}" ×${count}:\n${this.#output}`,
              ),
            );
          } else this.#waiters.push(check);
        };
        check();
      }),
      `${this.name} to print "${text}" ×${count}; it printed:\n${this.#output}`,
    );
  }

  /** Its exit code once it has exited (`null` when killed or never started), within `ms`. */
  exitCode(ms?: number): Promise<number | null> {
    return within(this.#closed, `${this.name} to exit`, ms);
  }

  /** Closes stdin (wsport's test programs shut down on it), then kills what is left. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.#process.stdin!.end();
    try {
      await this.exitCode(3_000);
    } catch {
      await this.kill(signal);
    }
  }

  /**
   * Sends `signal` unless it has exited (`SIGSTOP` and `SIGCONT` pause and resume it).
   * Through `process.kill(pid)`: Deno's `ChildProcess.kill` sends only the first signal.
   */
  signal(signal: NodeJS.Signals): void {
    if (!this.#done && this.#process.pid !== undefined) process.kill(this.#process.pid, signal);
  }

  /** Sends `signal` unless it has exited, and waits for it to exit. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.#done) this.#process.kill(signal);
    await this.exitCode();
  }
}

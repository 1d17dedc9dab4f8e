/**
 * Starting a site on each adapter this runtime offers, and running the examples, for the
 * adapter tests.
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { detectRuntime } from "../../src/adapters/runtime.ts";
import { serve } from "../../src/adapters/serve.ts";
import type { AdapterName, ServeOptions, Server } from "../../src/adapters/server.ts";
import type { CloseInfo } from "../../src/core/connection.ts";
import { type HandlerClass, WebSocketHandler } from "../../src/site/handler.ts";
import type { WebSocketSite } from "../../src/site/site.ts";
import { assertRefused, within } from "./client.ts";
import { Child } from "./child.ts";

/** The runtime running the tests. */
export const runtime: AdapterName = detectRuntime();

/** An adapter in a runtime, as the tests name it: `deno/node-adapter`. */
export interface Pair {
  readonly runtime: AdapterName;
  readonly adapter: AdapterName;
  /** Whether the adapter is the runtime's own server (Deno.serve, Bun.serve). */
  readonly native: boolean;
  readonly name: string;
}

const pair = (adapter: AdapterName): Pair => ({
  runtime,
  adapter,
  native: adapter !== "node",
  name: `${runtime}/${adapter}-adapter`,
});

/**
 * The pairs to test in this runtime: its own server where it has one, and the Node
 * adapter (which runs everywhere).
 */
export const pairs: readonly Pair[] = runtime === "node"
  ? [pair("node")]
  : [pair(runtime), pair("node")];

/** A `ws://` URL for `path` on a server. */
export function wsUrl(server: Server, path: string): string {
  return `ws://127.0.0.1:${server.port}${path}`;
}

/** Handles a server (or a test's client) could leave behind: sockets and timers. */
const LEAKABLE = new Set(["TCPServerWrap", "TCPSocketWrap", "Timeout", "Immediate"]);

/**
 * How many of each leakable handle are open, where the runtime says precisely: Node's
 * `process.getActiveResourcesInfo()`. `undefined` elsewhere.
 */
function openHandles(): Map<string, number> | undefined {
  if (runtime !== "node") return undefined;
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (LEAKABLE.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** The handles open now beyond those in `baseline`, as `name ×count`. */
function handlesBeyond(baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [name, count] of openHandles() ?? []) {
    const more = count - (baseline.get(name) ?? 0);
    if (more > 0) extra.push(`${name} ×${more}`);
  }
  return extra;
}

/**
 * Serves `site` on the pair's adapter (127.0.0.1, a free port, and `options`), runs
 * `body`, then shuts the server down, checks `finished` settles, that the port refuses
 * connections, and (on Node, which can tell) that no socket or timer opened since is
 * left behind.
 */
export async function withSite(
  site: WebSocketSite,
  pair: Pair,
  body: (server: Server) => Promise<void>,
  options: Pick<ServeOptions, "tls"> = {},
): Promise<void> {
  const baseline = openHandles();
  const server = await serve(site, {
    port: 0,
    hostname: "127.0.0.1",
    adapter: pair.adapter,
    ...options,
  });
  try {
    await body(server);
  } finally {
    await within(server.shutdown(), `${pair.name} shutting down`);
    await within(server.finished, `${pair.name} finishing`);
  }
  await assertRefused(server.port);
  if (baseline === undefined) return;
  // Closed sockets are released a turn or two after their close events.
  let left = handlesBeyond(baseline);
  for (let turn = 0; left.length > 0 && turn < 100; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    left = handlesBeyond(baseline);
  }
  assert.deepEqual(left, [], `${pair.name}: handles left open after the test`);
}

/** A promise with its resolve function outside: handlers signal tests with it. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Makes a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => resolve = done);
  return { promise, resolve };
}

/** Writes every message back. */
export class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

/**
 * A handler class (an `Echo` unless told otherwise) that records how its connections
 * ended; `first` settles with the first.
 */
export function recorder(Base: HandlerClass = Echo): {
  lost: CloseInfo[];
  first: Promise<CloseInfo>;
  Recorded: HandlerClass;
} {
  const lost: CloseInfo[] = [];
  const first = deferred<CloseInfo>();
  class Recorded extends Base {
    override connectionLost(info: CloseInfo): void {
      lost.push(info);
      first.resolve(info);
    }
  }
  return { lost, first: first.promise, Recorded };
}

/** An example program running as a child process. */
export interface RunningExample {
  /** The port it announced. */
  readonly port: number;
  /** Everything it printed to stdout so far. */
  readonly output: () => string;
  /** Resolves once stdout contains `text`. */
  printed(text: string): Promise<void>;
  /** Kills it and waits for it to exit. */
  stop(): Promise<void>;
}

/** The command that runs an example in this runtime. */
function exampleCommand(name: string): string[] {
  if (runtime === "deno") {
    return [
      process.execPath,
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      `examples/${name}.ts`,
    ];
  }
  if (runtime === "bun") return [process.execPath, "run", `examples/${name}.ts`];
  // Node runs the build of the test runner's tsc step.
  return [process.execPath, `.build/examples/${name}.js`];
}

/**
 * Runs `examples/<name>` in this runtime with `PORT=0 HOST=127.0.0.1
 * WSPORT_ADAPTER=<adapter>` and waits for the line announcing its port.
 */
export async function startExample(name: string, adapter: AdapterName): Promise<RunningExample> {
  const child = new Child(exampleCommand(name), {
    name: `examples/${name}`,
    env: { PORT: "0", HOST: "127.0.0.1", WSPORT_ADAPTER: adapter },
  });
  try {
    await child.printed("serving http://localhost:");
  } catch (error) {
    await child.kill();
    throw error;
  }
  const port = Number(/serving http:\/\/localhost:(\d+)/.exec(child.stdout)![1]);
  return {
    port,
    output: () => child.stdout,
    printed: (text) => child.printed(text),
    stop: () => child.kill(),
  };
}

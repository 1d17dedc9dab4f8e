/**
 * Runs `echo_client.mjs` (the `ws` client) under Node, whatever runtime runs the tests.
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { Child } from "./child.ts";
import { runtime } from "./server.ts";

/** What `echo_client.mjs` takes: a CA file to trust, messages to send. */
export interface EchoOptions {
  ca?: string;
  messages?: string[];
}

/** What it saw: the echoes in order and the close code. */
export interface EchoResult {
  echoes: string[];
  code: number;
}

const NODE = runtime === "node" ? process.execPath : "node";

/**
 * Echoes messages through `url` (`ws:`, `wss:`, or `ws+unix:` for a Unix socket) with
 * `ws` in a Node child process (at most 20 s).
 */
export async function wsEcho(url: string, options: EchoOptions = {}): Promise<EchoResult> {
  const command = [NODE, "tests/helpers/echo_client.mjs", url, JSON.stringify(options)];
  const child = new Child(command, { name: "echo_client", input: "" });
  let code: number | null;
  try {
    code = await child.exitCode(20_000);
  } finally {
    await child.kill();
  }
  assert.equal(code, 0, `echo_client failed: ${child.output}`);
  return JSON.parse(child.stdout);
}

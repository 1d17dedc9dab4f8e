/**
 * Running a compressing client as a child process (`ws` on Node, Python's `websockets`):
 * it is handed {@linkcode MESSAGES} on stdin, echoes them through the server and prints
 * what came back as JSON.
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { basename } from "node:path";
import { within } from "../helpers/client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { MESSAGES } from "./scenario.ts";

/** A message as it crosses the pipe: text as is, bytes in base64. */
type Piped = { text: string } | { binary: string };

/** What the client printed: the echoes and the extensions it negotiated, as it says them. */
export interface ClientResult {
  echoes: (string | Uint8Array)[];
  extensions: string;
}

/**
 * Runs `command` with `url` and `offer` (as JSON) appended, writes {@linkcode MESSAGES} to
 * its stdin and reads its result; fails when it exits with an error or runs over 20 s.
 */
export async function runClient(
  command: readonly string[],
  url: string,
  offer: unknown,
): Promise<ClientResult> {
  const child = spawn(command[0], [...command.slice(1), url, JSON.stringify(offer)], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => stdout += text);
  child.stderr.setEncoding("utf8").on("data", (text: string) => stderr += text);
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (error) => {
      stderr += error.message;
      resolve(null);
    });
    child.once("close", resolve);
  });
  child.stdin.on("error", () => {});
  child.stdin.end(
    JSON.stringify(
      MESSAGES.map((message): Piped =>
        typeof message === "string"
          ? { text: message }
          : { binary: Buffer.from(message).toString("base64") }
      ),
    ),
  );
  const name = basename(command.at(-1)!);
  let code: number | null;
  try {
    code = await within(exited, name, 20_000);
  } finally {
    if (child.exitCode === null) child.kill();
  }
  assert.equal(code, 0, `${name} failed: ${stderr}`);
  const result = JSON.parse(stdout) as { echoes: Piped[]; extensions: string };
  return {
    echoes: result.echoes.map((echo) =>
      "text" in echo ? echo.text : new Uint8Array(Buffer.from(echo.binary, "base64"))
    ),
    extensions: result.extensions,
  };
}

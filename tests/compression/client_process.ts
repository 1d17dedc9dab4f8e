/**
 * Running a compressing client as a child process (`ws` on Node, Python's `websockets`):
 * it is handed {@linkcode MESSAGES} on stdin, echoes them through the server and prints
 * what came back as JSON.
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Child } from "../helpers/child.ts";
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
  const input = JSON.stringify(
    MESSAGES.map((message): Piped =>
      typeof message === "string"
        ? { text: message }
        : { binary: Buffer.from(message).toString("base64") }
    ),
  );
  const child = new Child([...command, url, JSON.stringify(offer)], {
    name: command.at(-1)!.split("/").at(-1),
    input,
  });
  let code: number | null;
  try {
    code = await child.exitCode(20_000);
  } finally {
    await child.kill();
  }
  assert.equal(code, 0, `${child.name} failed: ${child.output}`);
  const result = JSON.parse(child.stdout) as { echoes: Piped[]; extensions: string };
  return {
    echoes: result.echoes.map((echo) =>
      "text" in echo ? echo.text : new Uint8Array(Buffer.from(echo.binary, "base64"))
    ),
    extensions: result.extensions,
  };
}

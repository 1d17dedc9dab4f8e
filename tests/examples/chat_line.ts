/**
 * Reading the chat example's lines: each published one comes as `<id> <line>`.
 * @module
 */

import assert from "node:assert/strict";
import type { Client } from "../helpers/client.ts";

/** The next line a client of the chat gets, its id checked and cut. */
export async function line(client: Client): Promise<string> {
  const stamped = /^(\d+-\d+) ([\s\S]*)$/.exec(String(await client.next()));
  assert.ok(stamped, "each published line starts with its id");
  return stamped[2];
}

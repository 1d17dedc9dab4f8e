/**
 * wsport processes (`redis_site.ts`) sharing a Redis backplane, and clients in their room,
 * for the tests that run them against a real `redis-server`.
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { AdapterName } from "../../src/adapters/server.ts";
import { Client } from "../helpers/client.ts";
import { Child } from "../helpers/child.ts";
import { runtime } from "../helpers/server.ts";

/**
 * Starts a wsport process (`redis_site.ts`) on `adapter`, in this runtime, with `env`
 * added (`WSPORT_BACKPLANE`, `STREAM_MAXLEN`); resolves once it serves.
 */
export async function startSite(
  adapter: AdapterName,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<Child> {
  const script = "tests/backplane/redis_site";
  const command = runtime === "deno"
    ? [process.execPath, "run", "--allow-all", `${script}.ts`]
    : runtime === "bun"
    ? [process.execPath, `${script}.ts`]
    : [process.execPath, `.build/${script}.js`];
  const child = new Child(command, {
    name: "redis_site",
    env: { REDIS_URL: redisUrl, WSPORT_ADAPTER: adapter, ...env },
  });
  await child.printed("serving ");
  return child;
}

/**
 * A client in the room of the site that `child` serves; resolves once it joined. Given
 * `since`, it subscribes since that id and resolves at once: what was kept after it,
 * then "joined", are the client's first messages.
 */
export async function join(child: Child, since?: string): Promise<Client> {
  const port = /serving (\d+)/.exec(child.output)![1];
  const query = since === undefined ? "" : `?since=${since}`;
  const client = await Client.open(`ws://127.0.0.1:${port}/room${query}`);
  if (since === undefined) assert.equal(await client.next(), "joined");
  return client;
}

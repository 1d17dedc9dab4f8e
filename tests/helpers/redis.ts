/**
 * A throwaway `redis-server` and a free port for it, for the tests that run wsport
 * processes sharing topics through Redis.
 * @module
 */

import { createServer } from "node:net";
import { Child } from "./child.ts";
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

/**
 * Starts `redis-server` on `port`, keeping nothing on disk; or, given `dir`, keeping its
 * data there in an append-only file synced on every write (`appendfsync always`), so a
 * server started again on the same `dir` after a `SIGKILL` has every write it
 * acknowledged.
 */
export async function startRedis(port: number, dir?: string): Promise<Child> {
  const persistence = dir === undefined
    ? ["--appendonly", "no"]
    : ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  const redis = new Child([
    "redis-server",
    "--save",
    "",
    ...persistence,
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
  ]);
  await redis.printed("Ready to accept connections");
  return redis;
}

/**
 * What every example shares: where to listen, and the line that says where.
 * @module
 */

import process from "node:process";
import type { ServeOptions, Server } from "../mod.ts";

/** Whether the environment variable `name` may be read (Deno asks for --allow-env). */
function readable(name: string): boolean {
  const deno = (globalThis as {
    Deno?: { permissions: { querySync(p: { name: string; variable: string }): { state: string } } };
  }).Deno;
  return !deno || deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
}

/** Reads an environment variable where allowed (Deno asks for --allow-env). */
export function env(name: string): string | undefined {
  return readable(name) ? process.env[name] : undefined;
}

/**
 * `PORT` (default 8080), `HOST` (default all interfaces), `WSPORT_ADAPTER` and
 * `REUSE_PORT=1` (several processes on one port) from the environment.
 */
export function listenOptions(): ServeOptions {
  if (!readable("PORT")) {
    // Without the permission Deno cannot tell whether PORT is set: say so, not stay silent.
    console.log("PORT, HOST and WSPORT_ADAPTER are not read: run Deno with --allow-env");
  }
  const port = Number(env("PORT") ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`PORT must be a TCP port number, got "${env("PORT")}"`);
  }
  const adapter = env("WSPORT_ADAPTER") as ServeOptions["adapter"];
  return { port, hostname: env("HOST"), adapter, reusePort: env("REUSE_PORT") === "1" };
}

/** Prints the URL a server serves, with its adapter. */
export function announce(server: Server, path = "/"): void {
  console.log(`wsport (${server.adapter} adapter) serving http://localhost:${server.port}${path}`);
}

/**
 * Runs an example Worker under a local `workerd`, on 127.0.0.1 at `PORT` (default 8787),
 * and prints its URL; Ctrl-C stops it.
 *
 *     npm run workers:echo     # examples/workers/echo.ts
 *     npm run workers:chat     # examples/workers/chat.ts, a Durable Object per room
 *
 * @module
 */

import process from "node:process";
import { EXAMPLE_WORKERS, startWorker } from "./workerd.ts";

const name = process.argv[2] ?? "";
const example = EXAMPLE_WORKERS[name];
if (example === undefined) {
  console.error(`Usage: run.ts ${Object.keys(EXAMPLE_WORKERS).join("|")}`);
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(`PORT must be a TCP port number, got "${process.env.PORT}"`);
}
const worker = await startWorker({
  ...example,
  port,
  hostname: "127.0.0.1",
  onOutput: (text) => process.stdout.write(text),
});
console.log(`wsport (workerd) serving http://127.0.0.1:${worker.port}/`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => worker.stop().then(() => process.exit(0)));
}

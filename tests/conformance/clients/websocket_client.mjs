/**
 * An interop client: runs the echo cell against each URL given, with this runtime's own
 * `WebSocket` (Deno, Bun, Node 22 or `node --experimental-websocket`), or with the `ws`
 * package when the first argument is `--ws`. Prints one JSON line naming the client, then
 * one per URL: `{ "url", "ok", "detail" }`; or `{ "unavailable": why }`.
 *
 * Usage: websocket_client.mjs [--ws] ws://host:port/echo...
 */
import { echoCell } from "./echo_cell.mjs";

const args = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const useWs = args[0] === "--ws";
const urls = useWs ? args.slice(1) : args;

async function client() {
  if (useWs) {
    const { WebSocket } = await import("ws");
    const { createRequire } = await import("node:module");
    const { version } = createRequire(import.meta.url)("ws/package.json");
    return { WebSocketClass: WebSocket, name: `ws ${version} on Node ${process.version}` };
  }
  if (typeof globalThis.WebSocket !== "function") return undefined;
  const name = globalThis.Deno
    ? `Deno ${globalThis.Deno.version.deno}`
    : globalThis.Bun
    ? `Bun ${globalThis.Bun.version}`
    : `Node ${globalThis.process.version}`;
  return { WebSocketClass: globalThis.WebSocket, name };
}

const found = await client();
if (found === undefined) {
  console.log(JSON.stringify({ unavailable: "this runtime has no global WebSocket" }));
} else {
  console.log(JSON.stringify({ client: found.name }));
  for (const url of urls) {
    console.log(JSON.stringify({ url, ...(await echoCell(found.WebSocketClass, url)) }));
  }
}

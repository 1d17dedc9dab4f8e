/**
 * The classic WebSocketSite: a file listing of the current directory at `/` and an echo
 * handler at `/echo`, on one port.
 *
 *     deno run --allow-net --allow-read examples/echo.ts
 *     bun run examples/echo.ts
 *     npm run echo                (Node: compiles with tsc, then runs the build)
 *
 * @module
 */

import { files, serve, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { announce, listenOptions } from "./listen.ts";

/** Writes every message back, text as text and binary as binary. */
export class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const site = new WebSocketSite(files("."));
site.addHandler("/echo", Echo);
announce(await serve(site, listenOptions()));

/**
 * The classic counting handler at `/counter`: it greets, answers each message by the
 * parity of the count, and ends the game at the tenth.
 *
 *     npm run example:counter
 *     deno run --allow-net --allow-env examples/counter.ts
 *     bun run examples/counter.ts
 *
 * `PORT` sets the port (default 8080); Deno reads it only with `--allow-env`. Try it with
 * any WebSocket client, for instance from a browser's console on any page:
 * `new WebSocket("ws://localhost:8080/counter")`.
 *
 * @module
 */

import { type CloseInfo, serve, type Transport, WebSocketHandler, WebSocketSite } from "../mod.ts";
import { announce, listenOptions } from "./listen.ts";

/** Counts messages: "Now we're even" after an odd count, "That was odd" after an even one. */
export class Counter extends WebSocketHandler {
  count = 0;

  constructor(transport: Transport) {
    super(transport);
    transport.write("hello world");
  }

  override frameReceived(): void {
    this.count++;
    if (this.count === 10) {
      this.transport.write("Enough play");
      this.transport.close();
    } else if (this.count % 2 === 1) {
      this.transport.write("Now we're even");
    } else {
      this.transport.write("That was odd");
    }
  }

  override connectionLost(_reason: CloseInfo): void {
    console.log(`Connection closed after ${this.count} frames`);
  }
}

const site = new WebSocketSite();
site.addHandler("/counter", Counter);
announce(await serve(site, listenOptions()), "/counter");

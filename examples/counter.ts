/**
 * The classic counting handler at `/counter`: it greets, answers each message by the
 * parity of the count, and ends the game at the tenth.
 *
 *     deno run --allow-net examples/counter.ts
 *     bun run examples/counter.ts
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

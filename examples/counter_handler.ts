/**
 * The classic counting handler, on its own so that every way of serving it (the
 * `counter.ts` example, a Cloudflare Worker) shares it.
 * @module
 */

// From the Workers entry, which has nothing of Node's: a Worker can bundle it.
import { type CloseInfo, type Transport, WebSocketHandler } from "../workers.ts";

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

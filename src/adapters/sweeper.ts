/**
 * One timer for all of a server's deadlines, instead of one per connection.
 * @module
 */

import type { TrackedConnection } from "./server.ts";

/**
 * Calls `tick(now)` on every tracked connection at a fixed interval, while there is any.
 *
 * The interval runs only while the set is not empty, so an idle server holds no timer.
 */
export class Sweeper {
  readonly connections: Set<TrackedConnection> = new Set();
  #intervalMs = 1000;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Tracks a connection, checking deadlines at least every `intervalMs`. */
  add(connection: TrackedConnection, intervalMs: number): void {
    this.connections.add(connection);
    if (intervalMs < this.#intervalMs) {
      this.#intervalMs = intervalMs;
      this.#stop();
    }
    this.#timer ??= setInterval(() => this.#sweep(), this.#intervalMs);
  }

  /** Stops tracking a connection. */
  delete(connection: TrackedConnection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) this.#stop();
  }

  #sweep(): void {
    const now = performance.now();
    for (const connection of this.connections) connection.tick(now);
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

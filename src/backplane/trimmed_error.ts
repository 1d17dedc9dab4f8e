/**
 * The report of messages a durable backplane knows it did not deliver.
 * @module
 */

/**
 * Messages a `RedisStreamsBackplane` knows it did not deliver: trimmed by Redis
 * before this process read them, lost by Redis, or dropped by their publisher at its
 * pending bound. Given to `onError`.
 */
export class TrimmedError extends Error {
  /** The last id delivered before the gap. */
  readonly after: string;
  /** The id where delivery went on (or the last id trimmed). */
  readonly until: string;

  /**
   * Makes the report of one gap.
   * @param after The last id delivered.
   * @param until Where delivery went on.
   * @param message What was lost, in words.
   */
  constructor(after: string, until: string, message: string) {
    super(message);
    this.name = "TrimmedError";
    this.after = after;
    this.until = until;
  }
}

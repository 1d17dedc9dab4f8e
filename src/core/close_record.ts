/**
 * How a connection ended, recorded once: the first failure wins over what is reported
 * after it.
 * @module
 */

/** How a connection ended. */
export interface CloseInfo {
  /** The close code; 1005 when a Close frame carried none, 1006 when none came. */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
  /**
   * Whether the closing handshake completed: both sides sent a Close frame. When it did
   * not, `code` is the one we sent on failing the connection (1002, 1007, 1009, ...),
   * or 1006 when the connection was lost without one.
   */
  wasClean: boolean;
}

/**
 * The one record of how a connection ended, kept by the core `Connection` and by the
 * links over a runtime's native WebSocket alike.
 *
 * Failing a connection (RFC 6455 §7.1.7) decides its close code at once, though the I/O
 * layer may report the end later and otherwise (a runtime that was told to drop TCP after
 * a 1009 reports 1006): a failure noted with {@linkcode CloseRecord.fail} wins over what
 * {@linkcode CloseRecord.end} is given after it, and the end is recorded once.
 *
 * @example A failure, then the runtime's report
 * ```ts
 * import { CloseRecord } from "./close_record.ts";
 * const record = new CloseRecord();
 * record.fail(1009, "Message too big");
 * record.end({ code: 1006, reason: "", wasClean: false }); // { code: 1009, ... }
 * record.end({ code: 1000, reason: "", wasClean: true }); // undefined: ended already
 * ```
 */
export class CloseRecord {
  #failure: CloseInfo | undefined;
  #info: CloseInfo | undefined;

  /** How the connection ended, once it has. */
  get info(): CloseInfo | undefined {
    return this.#info;
  }

  /** Whether the connection has ended. */
  get ended(): boolean {
    return this.#info !== undefined;
  }

  /**
   * Notes that we failed the connection with `code`: the end will be reported with it
   * (and `wasClean: false`), whatever the I/O layer says. Only the first failure counts,
   * and none once the connection has ended.
   */
  fail(code: number, reason: string): void {
    if (this.#info === undefined) this.#failure ??= { code, reason, wasClean: false };
  }

  /**
   * Records the end of the connection.
   * @param info How the I/O layer (or the core) saw it end.
   * @returns What to report: the failure noted first, else `info`; `undefined` when the
   *   connection had ended already, so that it is reported once.
   */
  end(info: CloseInfo): CloseInfo | undefined {
    if (this.#info !== undefined) return undefined;
    return this.#info = this.#failure ?? info;
  }
}

/**
 * A {@linkcode Link} for session tests: no socket, state the test sets, and a record of
 * what the session asked of it.
 */
import type { Link } from "../../src/site/link.ts";

/** Options of a {@linkcode FakeLink}. */
export interface FakeLinkOptions {
  /**
   * Whether the link can stop reading (a raw socket can; native WebSockets cannot).
   * @default true
   */
  pausable?: boolean;
}

/**
 * A link whose send buffer grows by what is sent until the test empties it, which closes
 * on `close()` or `terminate()`, and which records those calls (and `pause`/`resume`) as
 * strings in {@linkcode FakeLink.calls}: `"close 1000"`, `"terminate 1008 Send buffer overflow"`.
 */
export class FakeLink implements Link {
  isOpen = true;
  bufferedAmount = 0;
  readonly sent: (string | Uint8Array)[] = [];
  readonly calls: string[] = [];
  readonly pause?: () => void;
  readonly resume?: () => void;

  constructor({ pausable = true }: FakeLinkOptions = {}) {
    if (!pausable) return;
    this.pause = () => this.calls.push("pause");
    this.resume = () => this.calls.push("resume");
  }

  send(data: string | Uint8Array): void {
    this.sent.push(data);
    this.bufferedAmount += typeof data === "string" ? data.length : data.byteLength;
  }
  ping(): boolean {
    return true;
  }
  close(code: number, reason: string): void {
    this.isOpen = false;
    this.calls.push(reason === "" ? `close ${code}` : `close ${code} ${reason}`);
  }
  terminate(code: number, reason: string): void {
    this.isOpen = false;
    this.calls.push(reason === "" ? `terminate ${code}` : `terminate ${code} ${reason}`);
  }
}

/**
 * Outgoing messages: what `write` and `publish` accept, and a message framed once for
 * many connections.
 * @module
 */

import { Opcode } from "../core/constants.ts";
import { buildFrame } from "../core/frame.ts";
import { utf8ByteLength } from "../core/utf8.ts";

const encoder = new TextEncoder();

/**
 * Checks a message to send and turns an `ArrayBuffer` into a `Uint8Array` over it.
 *
 * @param data A string (sent as text) or bytes (sent as binary).
 * @param method The method being called, for the error message.
 * @throws {TypeError} When `data` is neither a string nor bytes.
 */
export function toMessage(
  data: string | Uint8Array | ArrayBuffer,
  method: string,
): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${method} takes a string, a Uint8Array or an ArrayBuffer`);
}

/** The size of a message on the wire: text counted in UTF-8 bytes. */
export function messageByteLength(message: string | Uint8Array): number {
  return typeof message === "string" ? utf8ByteLength(message) : message.byteLength;
}

/**
 * A message sent to many connections. Links that do their own framing all send the same
 * frame, built on first use; native links send {@linkcode PreparedMessage.data}.
 *
 * @example One frame for every subscriber
 * ```ts
 * import { PreparedMessage } from "./message.ts";
 * const message = new PreparedMessage("hi");
 * message.frame; // 81 02 68 69, the same array on every call
 * ```
 */
export class PreparedMessage {
  /** The message: text for a string, binary for bytes. */
  readonly data: string | Uint8Array;
  #frame: Uint8Array | undefined;
  #byteLength = -1;

  /** @param data The message; bytes are not copied, so do not change them after. */
  constructor(data: string | Uint8Array) {
    this.data = data;
  }

  /** The message's payload size, text counted in UTF-8: counted on first use. */
  get byteLength(): number {
    if (this.#byteLength < 0) this.#byteLength = messageByteLength(this.data);
    return this.#byteLength;
  }

  /** The message as one unmasked, uncompressed data frame (RFC 6455 §5.2). */
  get frame(): Uint8Array {
    const data = this.data;
    return this.#frame ??= typeof data === "string"
      ? buildFrame(Opcode.Text, encoder.encode(data))
      : buildFrame(Opcode.Binary, data);
  }
}

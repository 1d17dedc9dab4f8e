/**
 * What compresses and decompresses a connection's messages: declared here, implemented
 * outside the core (on `node:zlib` in the adapters), so the core stays web-standard.
 * @module
 */

/**
 * One connection's message compressor and decompressor for a per-message compression
 * extension (RFC 7692). It keeps the connection's LZ77 windows between messages unless
 * the agreement says otherwise.
 *
 * Calls in one direction come one at a time, in message order: the caller waits for a
 * `compress` to settle before the next `compress`, and likewise for `decompress`.
 */
export interface MessageCodec {
  /**
   * Compresses one message into the payload to send with RSV1 set: sync-flushed, with
   * the trailing `00 00 ff ff` removed (RFC 7692 §7.2.1).
   */
  compress(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Decompresses one received message's payload (all its fragments joined), after
   * appending `00 00 ff ff` (RFC 7692 §7.2.2).
   *
   * @param maxBytes The most bytes the message may decompress to: decompression stops as
   *   soon as more come out, so no more than this (plus one zlib chunk) is ever held.
   * @throws {WebSocketError} 1009 past `maxBytes`; 1007 for data that is not valid
   *   DEFLATE.
   */
  decompress(data: Uint8Array, maxBytes: number): Promise<Uint8Array>;
  /** Frees the codec's memory; pending and later calls reject. */
  close(): void;
}

/**
 * The Redis Cluster hash slot of a key or sharded channel.
 * @module
 */

/** How many hash slots a Redis Cluster has. */
export const CLUSTER_SLOTS = 16_384;

const encoder = new TextEncoder();

/** CRC16-CCITT (XMODEM), as Redis Cluster computes it, one table lookup per byte. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

/**
 * The hash slot Redis Cluster puts `name` in: CRC16 of its UTF-8 bytes, modulo 16384,
 * or of the part between the first `{` and the next `}` when that part is not empty
 * (its hash tag), as the Redis Cluster specification says.
 *
 * @example
 * ```ts
 * import { clusterSlot } from "./cluster_slot.ts";
 * clusterSlot("123456789"); // 12739, the specification's test vector (0x31C3)
 * clusterSlot("{user1000}.following") === clusterSlot("{user1000}.followers"); // true
 * ```
 */
export function clusterSlot(name: string): number {
  let bytes = encoder.encode(name);
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ byte) & 0xff]) & 0xffff;
  return crc % CLUSTER_SLOTS;
}

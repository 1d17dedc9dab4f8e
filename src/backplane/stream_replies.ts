/**
 * Reading Redis's replies to the stream commands, in either protocol (RESP2 arrays or
 * RESP3 maps), whatever the client turns them into.
 * @module
 */

/**
 * The key of each stream of an `XREAD` reply (null: none) and the `[id, number, message]`
 * of each of its entries, as RESP2 arrays (`[[key, entries], ...]`) or a RESP3 map
 * (`{ key: entries }`, as a `Map` or an object).
 */
export function streamEntries(reply: unknown): [string, [string, number, unknown][]][] {
  return keyValues(reply).map(([key, entries]) => [
    String(key),
    (Array.isArray(entries) ? entries : []).map((entry) => {
      const [id, fields] = entry as [unknown, unknown];
      const values = Array.isArray(fields) ? fields : [];
      return [
        String(id),
        Number(values[values.indexOf("n") + 1]),
        values[values.indexOf("m") + 1],
      ];
    }),
  ]);
}

/** The milliseconds part of a stream id. */
export function idTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

/** A field of an `XINFO STREAM` reply (`0-0` when it lacks it). */
export function field(info: unknown, name: string): string {
  const found = keyValues(info).find(([key]) => key === name);
  return found === undefined ? "0-0" : String(found[1]);
}

/**
 * The key-value pairs of a reply: a RESP3 map (a `Map` or an object), a RESP2 flat list
 * (`XINFO`), or a RESP2 list of pairs (`XREAD`).
 */
function keyValues(reply: unknown): [unknown, unknown][] {
  if (reply instanceof Map) return [...reply];
  if (Array.isArray(reply)) {
    if (reply.every((item) => Array.isArray(item) && item.length === 2)) {
      return reply as [unknown, unknown][];
    }
    const pairs: [unknown, unknown][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
    return pairs;
  }
  if (typeof reply === "object" && reply !== null) return Object.entries(reply);
  return [];
}

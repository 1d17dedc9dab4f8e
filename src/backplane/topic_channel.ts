/**
 * The Redis channel a topic's messages travel on, under interest-based routing.
 * @module
 */

/** Longest escaped topic kept whole in a channel name; longer ones are cut and hashed. */
export const MAX_TOPIC_CHANNEL_CHARS = 128;

/**
 * The channel of `topic` for the application whose channel is `prefix`:
 * `<prefix>:<escaped topic>`. Escaping writes `%`, `{`, `}` and control characters as
 * `%XX`, so that no topic sets a Redis Cluster hash tag (a hostile name cannot pile every
 * topic on one slot) and the mapping stays one-to-one. An escaped topic longer than
 * {@linkcode MAX_TOPIC_CHANNEL_CHARS} is cut to 96 characters and followed by `%~` and a
 * 64-bit FNV-1a hash of the whole, so a huge topic name costs Redis a bounded channel
 * name. Two long topics may then share a channel: each message still carries its topic,
 * so that costs a wasted delivery, never a wrong one.
 *
 * @example
 * ```ts
 * import { topicChannel } from "./topic_channel.ts";
 * topicChannel("myapp", "room:{1}"); // "myapp:room:%7B1%7D"
 * ```
 */
export function topicChannel(prefix: string, topic: string): string {
  // deno-lint-ignore no-control-regex
  const escaped = topic.replace(/[%{}\x00-\x1f\x7f]/g, escapeChar);
  if (escaped.length <= MAX_TOPIC_CHANNEL_CHARS) return `${prefix}:${escaped}`;
  return `${prefix}:${escaped.slice(0, 96)}%~${fnv1a64(topic)}`;
}

function escapeChar(char: string): string {
  return "%" + char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
}

/** Two 32-bit FNV-1a hashes (different offsets) over UTF-16 code units, as 16 hex digits. */
function fnv1a64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

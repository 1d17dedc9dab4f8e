/**
 * The message format both Redis backplanes share: a JSON header line, then the payload.
 * @module
 */

/** The version of the message format, first in every header. */
const FORMAT = 1;

/** What a message carries after its header. */
export const Kind = { Text: "t", Binary: "b", Probe: "p" } as const;
/** One of {@linkcode Kind}'s values. */
export type Kind = typeof Kind[keyof typeof Kind];

/** A message a backplane sent, its payload still encoded. */
export interface Envelope {
  /** The id of the process that sent it. */
  origin: string;
  kind: Kind;
  /** The topic, or a probe's number. */
  topic: string;
  /** The text, base64 for bytes, empty for a probe. */
  payload: string;
  /**
   * The sender's count of its messages, from 1, where the backplane numbers them (the
   * streams backplane does, to drop a message stored twice and to see one lost).
   */
  seq?: number;
}

/**
 * Formats a message: `[1, origin, kind, topic]` (or `[1, origin, kind, topic, seq]`),
 * a newline, then the payload.
 */
export function formatEnvelope(
  origin: string,
  kind: Kind,
  topic: string,
  payload: string,
  seq?: number,
): string {
  const header = seq === undefined
    ? [FORMAT, origin, kind, topic]
    : [FORMAT, origin, kind, topic, seq];
  return JSON.stringify(header) + "\n" + payload;
}

/** Formats a published message: text as it is, bytes in base64. */
export function formatPublished(
  origin: string,
  topic: string,
  data: string | Uint8Array,
  seq?: number,
): string {
  return typeof data === "string"
    ? formatEnvelope(origin, Kind.Text, topic, data, seq)
    : formatEnvelope(origin, Kind.Binary, topic, toBase64(data), seq);
}

/**
 * Parses a message a backplane sent, or says what is wrong with it.
 * @param numbered Whether the header must end with a seq (the streams backplane's) or
 *   must not (the pub/sub backplane's).
 */
export function parseEnvelope(message: unknown, numbered = false): Envelope | string {
  if (typeof message !== "string") return "it is not text";
  const newline = message.indexOf("\n");
  if (newline < 0) return "it has no header line";
  let header: unknown;
  try {
    header = JSON.parse(message.slice(0, newline));
  } catch {
    return "its header is not JSON";
  }
  if (!Array.isArray(header) || header.length !== (numbered ? 5 : 4) || header[0] !== FORMAT) {
    return `its header is not [${FORMAT}, origin, kind, topic${numbered ? ", seq" : ""}]`;
  }
  const [, origin, kind, topic, seq] = header;
  if (typeof origin !== "string" || typeof topic !== "string") {
    return "its origin or topic is not a string";
  }
  if (kind !== Kind.Text && kind !== Kind.Binary && kind !== Kind.Probe) {
    return 'its kind is not "t", "b" or "p"';
  }
  if (numbered && !(Number.isSafeInteger(seq) && seq > 0)) {
    return "its seq is not a positive integer";
  }
  const envelope: Envelope = { origin, kind, topic, payload: message.slice(newline + 1) };
  if (numbered) envelope.seq = seq;
  return envelope;
}

/**
 * The data a text or binary envelope carries, or `undefined` when its payload is not
 * base64.
 */
export function envelopeData(envelope: Envelope): string | Uint8Array | undefined {
  return envelope.kind === Kind.Text ? envelope.payload : fromBase64(envelope.payload);
}

/** An error saying a message was skipped, with its first 64 characters. */
export function malformedError(where: string, reason: string, message: unknown): Error {
  const text = String(message);
  const start = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  return new Error(`Skipped a malformed message on ${where}: ${reason}: ${start}`);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes `text` encodes in base64, or `undefined` when it is not base64. */
function fromBase64(text: string): Uint8Array | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

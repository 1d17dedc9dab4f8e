/**
 * The messages a site keeps of each topic, so a client that reconnects can subscribe
 * `since` the last one it saw.
 * @module
 */

import { DEFAULT_REPLAY } from "../core/limits.ts";
import { PER_ITEM_BYTES, retain } from "../core/retained_bytes.ts";
import { PreparedMessage } from "./message.ts";

/** How much a site keeps for replay (the defaults are `DEFAULT_REPLAY` in `core/limits.ts`). */
export interface ReplayOptions {
  /**
   * Most messages kept per topic.
   * @default 256
   */
  maxMessages?: number;
  /**
   * Most bytes kept over all topics; past it the oldest message goes first. Each kept
   * message is charged what it holds: its data (a string two bytes per character; bytes,
   * the whole buffer they pin, copied first when they are less than half of it, and 512
   * more for the buffer's own objects), its topic's name (two bytes per character), and
   * 512 bytes for the objects around them (entry, id, list slots). A message charged
   * more than this is not kept. Frames are not kept: a replayed message is framed again
   * for the subscriber it goes to.
   * @default 8_388_608 (8 MiB)
   */
  maxBytes?: number;
}

/** One kept message, in its topic's list and in the list of all, oldest first. */
interface Kept {
  readonly topic: string;
  readonly id: string;
  /** What subscribers were sent (`encodePublished`'s output). */
  readonly data: string | Uint8Array;
  /** What it counts against `maxBytes`. */
  readonly bytes: number;
  older: Kept | undefined;
  newer: Kept | undefined;
}

/** What a subscription `since` an id gets. */
export interface Replayed {
  /** The kept messages after the id, oldest first. */
  readonly messages: PreparedMessage[];
  /**
   * `false` when messages after the id may be missing: dropped, never seen here, or the
   * id is not one this window can place.
   */
  readonly complete: boolean;
  /**
   * The newest id the subscriber has now (the one it gave, or the last replayed): live
   * messages up to it must not reach it again. `undefined` when the id could not be
   * placed (live messages all go to it).
   */
  readonly floor: string | undefined;
}

/**
 * The last messages of each topic, with their ids, within `maxMessages` per topic and
 * `maxBytes` in all. Ids are `ms-seq`, compared as such, and comparable only within one
 * id space: either this process's own (`<epoch>-<n>`, which no other process can place),
 * or an ordered backplane's (Redis stream ids, the same in every process).
 */
export class ReplayWindow {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #topics = new Map<string, Kept[]>();
  /** The ends of the list of every kept message, for the byte bound. */
  #oldest: Kept | undefined;
  #newestKept: Kept | undefined;
  #bytes = 0;
  /** The newest id dropped of each topic of which some are kept. */
  readonly #dropped = new Map<string, string>();
  /** Whether ids are this process's own, from `#start` to `#newest`. */
  readonly #own: boolean;
  /**
   * Where this window started: what came before was never seen by this process. With a
   * backplane's ids, the first one recorded.
   */
  #start: string | undefined;
  /** The newest id recorded. */
  #newest: string | undefined;
  /** The newest id dropped of the topics of which none are kept. */
  #floor: string | undefined;
  /**
   * For each topic this process receives only while it has a subscriber for it (a
   * backplane routing by interest), the id from which it does: messages of the topic up
   * to it may have passed by. `vouched` when a backplane that keeps a log took it from
   * there. One entry per topic subscribed here.
   */
  readonly #joined = new Map<string, { id: string; vouched: boolean }>();

  /**
   * @param options The bounds, checked already; 0 keeps nothing.
   * @param start When ids are this process's own, the id before all of them: an id
   *   before it or past the newest recorded is then another process's, which the window
   *   cannot place. Left out when ids are an ordered backplane's, the same everywhere:
   *   the window then starts at the first id it records.
   */
  constructor(options: ReplayOptions = {}, start?: string) {
    this.#own = start !== undefined;
    this.#start = start;
    this.#maxMessages = options.maxMessages ?? DEFAULT_REPLAY.maxMessages;
    this.#maxBytes = options.maxBytes ?? DEFAULT_REPLAY.maxBytes;
  }

  /** Bytes charged for the messages kept (see `ReplayOptions.maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps what subscribers of `topic` were sent (`data`) with its `id`, dropping the
   * oldest past a bound.
   */
  record(topic: string, id: string, data: string | Uint8Array): void {
    this.#start ??= id;
    if (this.#newest === undefined || compareIds(id, this.#newest) > 0) this.#newest = id;
    if (this.#maxMessages === 0) return this.#gone(topic, id);
    const held = typeof data === "string" ? data : retain(data);
    const bytes = heldBytes(held) + heldBytes(topic) + PER_ITEM_BYTES;
    if (bytes > this.#maxBytes) return this.#gone(topic, id);
    const kept: Kept = { topic, id, data: held, bytes, older: this.#newestKept, newer: undefined };
    if (this.#newestKept === undefined) this.#oldest = kept;
    else this.#newestKept.newer = kept;
    this.#newestKept = kept;
    this.#bytes += bytes;
    let list = this.#topics.get(topic);
    if (list === undefined) this.#topics.set(topic, list = []);
    list.push(kept);
    if (list.length > this.#maxMessages) this.#drop(list[0]);
    while (this.#bytes > this.#maxBytes) this.#drop(this.#oldest!);
  }

  /**
   * Notes that `topic` is received from now on (its first subscriber here, under a
   * backplane routing by interest): messages of it before may have passed by.
   * @param from The id after which a backplane that keeps a log delivers the topic's
   *   messages here (it starts reading them there, or has read them since before): the
   *   topic is then complete after `from`, whatever this window saw before.
   */
  joined(topic: string, from?: string): void {
    const id = from ?? this.#newest;
    if (id !== undefined) this.#joined.set(topic, { id, vouched: from !== undefined });
  }

  /** Forgets a topic's {@linkcode ReplayWindow.joined}, once it has no subscriber here. */
  left(topic: string): void {
    this.#joined.delete(topic);
  }

  /**
   * The kept messages of `topic` after `id`, whether that is all of them, and the floor
   * below which live messages must not reach the subscriber.
   *
   * An id this window cannot place gets nothing, `complete: false` and no floor: one
   * that is not `ms-seq`, or, with this process's own ids, one it never gave (another
   * process's, with the pub/sub backplane or none). With a backplane's ids, an id past
   * the newest recorded is one this process has not read yet: nothing is replayed, and
   * the floor holds live messages back until one passes it.
   */
  since(topic: string, id: string): Replayed {
    const start = this.#start;
    if (
      !ID.test(id) ||
      (this.#own && (compareIds(id, start!) < 0 || compareIds(id, this.#newest ?? start!) > 0))
    ) {
      return { messages: [], complete: false, floor: undefined };
    }
    const messages: PreparedMessage[] = [];
    let floor = id;
    for (const kept of this.#topics.get(topic) ?? []) {
      if (compareIds(kept.id, id) <= 0) continue;
      messages.push(new PreparedMessage(kept.data));
      floor = kept.id;
    }
    const dropped = this.#dropped.get(topic) ?? this.#floor;
    const joined = this.#joined.get(topic);
    const complete = (dropped === undefined || compareIds(id, dropped) >= 0) &&
      (joined === undefined || compareIds(id, joined.id) >= 0) &&
      (joined?.vouched === true || (start !== undefined && compareIds(id, start) >= 0));
    return { messages, complete, floor };
  }

  /** Drops the oldest kept message of its topic. */
  #drop(kept: Kept): void {
    const list = this.#topics.get(kept.topic)!;
    list.shift();
    if (list.length === 0) this.#topics.delete(kept.topic);
    if (kept.older === undefined) this.#oldest = kept.newer;
    else kept.older.newer = kept.newer;
    if (kept.newer === undefined) this.#newestKept = kept.older;
    else kept.newer.older = kept.older;
    this.#bytes -= kept.bytes;
    this.#gone(kept.topic, kept.id);
  }

  /** Notes that a message of `topic` up to `id` is no longer (or never was) kept. */
  #gone(topic: string, id: string): void {
    if (this.#topics.has(topic)) this.#dropped.set(topic, id);
    else {
      // Nothing kept of the topic: one floor for all such topics keeps memory bounded.
      this.#dropped.delete(topic);
      if (this.#floor === undefined || compareIds(id, this.#floor) > 0) this.#floor = id;
    }
  }
}

/**
 * What a string or bytes hold in memory, at most: a string two bytes per character (V8
 * and JavaScriptCore store some strings so, whatever their characters); bytes, their
 * whole buffer and `PER_ITEM_BYTES` for the buffer's own objects (measured for 1 KB
 * arrays: 670 bytes of RSS on Deno, 1,050 on Bun once `.buffer` was read).
 */
function heldBytes(value: string | Uint8Array): number {
  return typeof value === "string" ? 2 * value.length : value.buffer.byteLength + PER_ITEM_BYTES;
}

/**
 * Compares two message ids (`ms-seq`, as Redis stream ids): negative, 0 or positive. An
 * id of another shape sorts before every well-formed one.
 */
export function compareIds(a: string, b: string): number {
  const [aTime, aSeq] = parseId(a);
  const [bTime, bSeq] = parseId(b);
  return aTime - bTime || aSeq - bSeq;
}

/** A well-formed id. */
const ID = /^(\d+)-(\d+)$/;

function parseId(id: string): [number, number] {
  const match = ID.exec(id);
  return match === null ? [-1, -1] : [Number(match[1]), Number(match[2])];
}

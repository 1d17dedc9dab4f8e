/**
 * The messages a site keeps of each topic, so a client that reconnects can subscribe
 * `since` the last one it saw.
 * @module
 */

import { messageByteLength, type PreparedMessage } from "./message.ts";

/** How much a site keeps for replay. */
export interface ReplayOptions {
  /**
   * Most messages kept per topic.
   * @default 256
   */
  maxMessages?: number;
  /**
   * Most bytes of messages kept over all topics (the oldest go first).
   * @default 8_388_608 (8 MiB)
   */
  maxBytes?: number;
}

/** One kept message. */
interface Kept {
  readonly topic: string;
  readonly id: string;
  readonly message: PreparedMessage;
  /** What it counts against `maxBytes`; -1 once dropped. */
  bytes: number;
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
  /** Every kept message, oldest first, for the byte bound. */
  readonly #all: Kept[] = [];
  #head = 0;
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
   * @param options The bounds; 0 keeps nothing.
   * @param start When ids are this process's own, the id before all of them: an id
   *   before it or past the newest recorded is then another process's, which the window
   *   cannot place. Left out when ids are an ordered backplane's, the same everywhere:
   *   the window then starts at the first id it records.
   */
  constructor(options: ReplayOptions = {}, start?: string) {
    this.#own = start !== undefined;
    this.#start = start;
    this.#maxMessages = options.maxMessages ?? 256;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 ** 2;
  }

  /** Keeps a message delivered on `topic` with `id`, dropping the oldest past a bound. */
  record(topic: string, id: string, message: PreparedMessage): void {
    this.#start ??= id;
    if (this.#newest === undefined || compareIds(id, this.#newest) > 0) this.#newest = id;
    if (this.#maxMessages === 0 || this.#maxBytes === 0) {
      if (this.#floor === undefined || compareIds(id, this.#floor) > 0) this.#floor = id;
      return;
    }
    const kept: Kept = { topic, id, message, bytes: messageByteLength(message.data) + 64 };
    let list = this.#topics.get(topic);
    if (list === undefined) this.#topics.set(topic, list = []);
    list.push(kept);
    this.#all.push(kept);
    this.#bytes += kept.bytes;
    if (list.length > this.#maxMessages) this.#drop(list.shift()!);
    while (this.#bytes > this.#maxBytes && this.#head < this.#all.length) {
      const oldest = this.#all[this.#head];
      if (oldest.bytes >= 0) {
        const topicList = this.#topics.get(oldest.topic)!;
        topicList.shift();
        if (topicList.length === 0) this.#topics.delete(oldest.topic);
        this.#drop(oldest);
      }
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#all.length) {
      this.#all.splice(0, this.#head);
      this.#head = 0;
    }
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
      messages.push(kept.message);
      floor = kept.id;
    }
    const dropped = this.#dropped.get(topic) ?? this.#floor;
    const complete = (dropped === undefined || compareIds(id, dropped) >= 0) &&
      start !== undefined && compareIds(id, start) >= 0;
    return { messages, complete, floor };
  }

  #drop(kept: Kept): void {
    this.#bytes -= kept.bytes;
    kept.bytes = -1;
    if (this.#topics.has(kept.topic)) this.#dropped.set(kept.topic, kept.id);
    else {
      // Nothing kept of the topic: one floor for all such topics keeps memory bounded.
      this.#dropped.delete(kept.topic);
      if (this.#floor === undefined || compareIds(kept.id, this.#floor) > 0) this.#floor = kept.id;
    }
  }
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

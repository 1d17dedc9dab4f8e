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
  /** `false` when messages after the id may have been dropped (or never seen here). */
  readonly complete: boolean;
}

/**
 * The last messages of each topic, with their ids, within `maxMessages` per topic and
 * `maxBytes` in all. Ids are `ms-seq` (Redis stream ids, or this process's own), compared
 * as such.
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
  /** Where this window started: what came before was never seen by this process. */
  readonly #start: string;
  /** The newest id dropped of the topics of which none are kept. */
  #floor: string | undefined;

  /**
   * @param options The bounds; 0 keeps nothing.
   * @param start The id before every message this window will see.
   */
  constructor(options: ReplayOptions = {}, start = "0-0") {
    this.#start = start;
    this.#maxMessages = options.maxMessages ?? 256;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 ** 2;
  }

  /** Keeps a message delivered on `topic` with `id`, dropping the oldest past a bound. */
  record(topic: string, id: string, message: PreparedMessage): void {
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

  /** The kept messages of `topic` after `id`, and whether that is all of them. */
  since(topic: string, id: string): Replayed {
    const list = this.#topics.get(topic) ?? [];
    const messages = list.filter((kept) => compareIds(kept.id, id) > 0).map((kept) => kept.message);
    const dropped = this.#dropped.get(topic) ?? this.#floor;
    const complete = (dropped === undefined || compareIds(id, dropped) >= 0) &&
      compareIds(id, this.#start) >= 0;
    return { messages, complete };
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

function parseId(id: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(id);
  return match === null ? [-1, -1] : [Number(match[1]), Number(match[2])];
}

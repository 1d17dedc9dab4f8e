/**
 * A durable backplane over a Redis stream, on the Redis client you already use.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  describeValue,
  isOptionsObject,
  optionRangeError,
  optionTypeError,
} from "../core/options.ts";
import type { Backplane } from "../site/backplane.ts";
import { compareIds } from "../site/replay.ts";
import { envelopeData, formatPublished, malformedError, parseEnvelope } from "./envelope.ts";
import {
  type BackplaneStatus,
  Lifecycle,
  lifecycleChecks,
  type LifecycleOptions,
} from "./lifecycle.ts";

/**
 * Two ways to send a Redis command on the client of your choice, each taking the
 * command and its arguments as strings and resolving with Redis's reply, as RESP2 arrays
 * of strings or RESP3 maps (node-redis's `sendCommand`, ioredis's `call`, Bun's `send`). `block` must
 * use a connection of its own: it waits in `XREAD BLOCK`, which holds the connection.
 */
export interface RedisStreamCommands {
  /** Sends `EVAL` (which runs `XADD`) or `XINFO`, on any connection. */
  call(command: string[]): Promise<unknown>;
  /** Sends `XREAD BLOCK`, on a connection nothing else uses. */
  block(command: string[]): Promise<unknown>;
}

/**
 * How much of the stream Redis keeps: the last `maxLength` messages, or those of the last
 * `maxAgeMs` (by the publishing process's clock). A process that is away for longer
 * than this misses messages, and reports which.
 */
export type StreamRetention =
  | {
    /** How many messages to keep. */
    maxLength: number;
    /**
     * Trim to exactly `maxLength` (`=`) instead of letting Redis trim whole nodes when it
     * is cheap (`~`, which keeps at least `maxLength`).
     * @default false
     */
    exact?: boolean;
  }
  | {
    /** How old a message may get, in milliseconds. */
    maxAgeMs: number;
    /** Trim exactly (`=`) instead of by whole nodes (`~`). @default false */
    exact?: boolean;
  };

/**
 * Options of a {@linkcode RedisStreamsBackplane}. While Redis is down, published messages
 * wait in memory, in order, up to `maxPendingPublishes` messages and `maxPendingBytes`;
 * past either, a message is dropped for every process, this one included, and
 * `onError` says so (once until the queue drains); every process then also reports the
 * hole in that publisher's numbering, as it reports a trimmed gap.
 */
export interface RedisStreamsBackplaneOptions extends LifecycleOptions {
  /**
   * The stream's key: every process whose backplane uses the same key shares topics.
   * Give each application its own.
   * @default "wsport:stream"
   */
  stream?: string;
  /**
   * How much of the stream Redis keeps.
   * @default { maxLength: 10_000 }
   */
  retention?: StreamRetention;
  /**
   * Most entries one `XREAD` returns, and most messages one `EVAL` appends.
   * @default 256
   */
  batchSize?: number;
}

/**
 * Appends each message to `KEYS[1]` with the trim arguments `ARGV[2..ARGV[1]+1]`, in one
 * step, so a batch is stored whole or not at all, each entry numbered (`n`) by the
 * stream's count of entries ever added (`entries-added`), so a reader sees a trimmed
 * gap by a jump in it; returns the ids.
 */
const APPEND = `local added = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then added = info[i + 1] end
  end
end
local n = tonumber(ARGV[1])
local args = {'XADD', KEYS[1]}
for j = 2, n + 1 do args[#args + 1] = ARGV[j] end
args[#args + 1] = '*'
args[#args + 1] = 'n'
local number = #args + 1
args[number] = 0
args[#args + 1] = 'm'
local last = #args + 1
local ids = {}
for i = n + 2, #ARGV do
  args[number] = added + i - n - 1
  args[last] = ARGV[i]
  ids[#ids + 1] = redis.call(unpack(args))
end
return ids`;

/** A message waiting to be appended. */
interface Outgoing {
  readonly message: string;
}

/**
 * Carries a site's published messages between processes through one Redis stream, so
 * that none is lost to an outage shorter than the stream's retention.
 *
 * Each published message waits in this process, in order, until Redis stored it (one
 * `EVAL` appends a batch with `XADD`, trimming to `retention`). Each process reads the
 * stream from the id it last delivered (`XREAD BLOCK` on its own connection), its own
 * messages included, and only then delivers them, so **every process delivers the
 * messages of the stream in one order: a total order over all topics**, the order
 * Redis stored them. After Redis restarts (with `appendonly yes` and `appendfsync
 * always`: with `everysec` a crash can lose the last second of acknowledged writes), a
 * network blip, or a pause of this process shorter than the retention, it catches up:
 * every subscriber gets every message exactly once. Each message carries its
 * publisher's count, so one stored twice (Redis stored a batch but the reply was lost,
 * and it was sent again) is delivered once; and each entry carries the stream's count of
 * entries added (`XINFO STREAM`'s `entries-added`, Redis 7 or later), so a jump in it
 * (Redis trimmed entries before this process read them) or a hole in a publisher's
 * count (a publisher dropped messages at its bound) is reported to `onError` as a
 * {@linkcode TrimmedError} with the ids around the gap and the count lost, never hidden.
 *
 * Costs against {@linkcode RedisBackplane}: a message reaches even its own process's
 * subscribers one Redis round trip later, and Redis keeps `retention` of them in memory.
 * Each process remembers the last count of each publisher it has seen (a few dozen bytes
 * per publishing process that ever ran).
 *
 * The status turns `"down"` when a read does not return within `probeIntervalMs` past
 * its block time, or Redis refuses a command; `"up"` when the next one works. The Redis
 * clients stay yours: reconnecting them is their job, and
 * {@linkcode RedisStreamsBackplane.close} leaves them open. **The stream is trusted**,
 * as {@linkcode RedisBackplane}'s channel is: allow the backplane's user only its own key.
 *
 * @example With node-redis
 * ```ts
 * import { createClient } from "redis";
 * import { WebSocketSite } from "wsport";
 * import { RedisStreamsBackplane } from "wsport/redis";
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * const reader = client.duplicate();
 * client.on("error", () => {});
 * reader.on("error", () => {});
 * await Promise.all([client.connect(), reader.connect()]);
 * const backplane = new RedisStreamsBackplane({
 *   call: (command) => client.sendCommand(command),
 *   block: (command) => reader.sendCommand(command),
 * }, { stream: "myapp:prod", retention: { maxAgeMs: 60_000 } });
 * const site = new WebSocketSite(undefined, { backplane });
 * ```
 */
export class RedisStreamsBackplane implements Backplane {
  /** This process's id, sent with each message. */
  readonly origin: string = crypto.randomUUID();
  /** Messages come back through the stream, this process's own included. */
  readonly ordered = true;
  readonly #redis: RedisStreamCommands;
  readonly #stream: string;
  readonly #retention: StreamRetention;
  readonly #batchSize: number;
  readonly #life: Lifecycle;
  #listener:
    | ((
      topic: string,
      data: string | Uint8Array,
      id: string,
      except?: ReadonlySet<unknown>,
    ) => void)
    | undefined;
  /** This process's count of its messages. */
  #seq = 0;
  /** Messages waiting for Redis, in order; the first ones may be on their way. */
  readonly #queue: Outgoing[] = [];
  /** Resolves when the appending loop is done with what is queued. */
  #flushing: Promise<void> | undefined;
  /** The id of the last entry read, or `undefined` before the first read. */
  #lastId: string | undefined;
  /** The stream's count of entries added, as of the last entry read. */
  #lastNumber = 0;
  /** Each publisher's last count delivered. */
  readonly #seqs = new Map<string, number>();
  /** The `except` of each of this process's messages not yet delivered, by count. */
  readonly #excepts = new Map<number, ReadonlySet<unknown>>();
  /** Resolves once the reader knows where the stream ends. */
  #ready: () => void = () => {};
  readonly #started = new Promise<void>((resolve) => this.#ready = resolve);

  /**
   * Starts reading at once, from the end of the stream; the status turns `"up"` when the
   * first read returns. Messages published before then wait.
   *
   * @param redis The Redis commands, on your client.
   * @param options The stream, its retention, the intervals and the hooks.
   * @throws {RangeError} For a negative or non-integer interval, size or maximum.
   * @throws {TypeError} When `redis` lacks `call` or `block`, `options` is not an object,
   *   an option's name is unknown, `stream` is not a non-empty string, `retention` is not
   *   one of its two shapes, a number option is not a number, or a hook is not a function.
   */
  constructor(redis: RedisStreamCommands, options: RedisStreamsBackplaneOptions = {}) {
    for (const command of ["call", "block"] as const) {
      if (typeof redis?.[command] !== "function") {
        throw new TypeError(
          `${CALLER}: redis.${command} must be a function, got ${describeValue(redis?.[command])}`,
        );
      }
    }
    const given = checkOptionNames(CALLER, options, Object.keys(OPTION_CHECKS));
    for (const [name, check] of Object.entries(OPTION_CHECKS)) check(given[name]);
    this.#redis = redis;
    this.#stream = options.stream ?? "wsport:stream";
    this.#retention = options.retention ?? { maxLength: 10_000 };
    this.#batchSize = options.batchSize ?? 256;
    this.#life = new Lifecycle(options);
    this.#read();
  }

  /** Where the backplane stands. */
  get status(): BackplaneStatus {
    return this.#life.status;
  }

  /**
   * Queues a message for the stream. Past `maxPendingPublishes` or `maxPendingBytes` it
   * is dropped, for every process, and reported.
   */
  publish(topic: string, data: string | Uint8Array, except?: ReadonlySet<unknown>): void {
    if (this.#life.closed) return;
    const message = formatPublished(this.origin, topic, data, ++this.#seq);
    if (!this.#life.fits(message.length)) {
      return this.#life.overflow(
        `dropped message ${this.#seq} and later ones of this process until they are stored`,
      );
    }
    this.#life.hold(message.length);
    this.#queue.push({ message });
    if (except !== undefined && except.size > 0) this.#excepts.set(this.#seq, except);
    this.#flush();
  }

  /** Starts the appending loop unless it runs; starts it again if it left messages. */
  #flush(): void {
    this.#flushing ??= this.#append().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0 && !this.#life.closed) this.#flush();
    });
  }

  /**
   * Sets the function that delivers each message read, with its stream id, and the
   * `except` it was published with when it is this process's own.
   */
  onMessage(
    listener: (
      topic: string,
      data: string | Uint8Array,
      id: string,
      except?: ReadonlySet<unknown>,
    ) => void,
  ): void {
    this.#listener = listener;
  }

  /**
   * Stops reading; messages still waiting for Redis get `probeIntervalMs` to be stored.
   * The Redis clients stay open. Since a site with this backplane delivers messages only
   * as they come back from the stream, later `site.publish` calls reach no one, not even
   * this process's subscribers: close it when the site is done.
   */
  async close(): Promise<void> {
    if (this.#life.closed) return;
    const flushing = this.#flushing;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (flushing !== undefined) {
      await Promise.race([
        flushing,
        new Promise((resolve) => timer = setTimeout(resolve, this.#life.probeIntervalMs)),
      ]);
      clearTimeout(timer);
    }
    this.#life.close();
  }

  /** Appends what is queued, a batch at a time, trying a failed batch again. */
  async #append(): Promise<void> {
    const life = this.#life;
    await this.#started;
    let attempt = 0;
    while (this.#queue.length > 0 && !life.closed) {
      const batch = this.#queue.slice(0, this.#batchSize);
      const trim = this.#trim();
      try {
        await this.#bounded(
          "EVAL",
          this.#redis.call([
            "EVAL",
            APPEND,
            "1",
            this.#stream,
            String(trim.length),
            ...trim,
            ...batch.map((outgoing) => outgoing.message),
          ]),
        );
      } catch (error) {
        if (life.closed) return;
        if (life.status !== "down") life.onError(error);
        life.set("down");
        await life.sleep(life.backoff(attempt++));
        continue;
      }
      attempt = 0;
      this.#queue.splice(0, batch.length);
      for (const outgoing of batch) life.release(outgoing.message.length);
    }
  }

  /** The trim arguments of `XADD`. */
  #trim(): string[] {
    const retention = this.#retention;
    const how = retention.exact === true ? "=" : "~";
    return "maxLength" in retention
      ? ["MAXLEN", how, String(retention.maxLength)]
      : ["MINID", how, `${Math.max(0, Date.now() - retention.maxAgeMs)}-0`];
  }

  /** Reads the stream from the last id delivered, for as long as the backplane is open. */
  async #read(): Promise<void> {
    const life = this.#life;
    let attempt = 0;
    while (!life.closed) {
      try {
        if (this.#lastId === undefined) {
          [this.#lastId, this.#lastNumber] = await this.#end();
          this.#ready();
        }
        const reply = await this.#bounded(
          "XREAD",
          this.#redis.block([
            "XREAD",
            "COUNT",
            String(this.#batchSize),
            "BLOCK",
            String(life.probeIntervalMs),
            "STREAMS",
            this.#stream,
            this.#lastId,
          ]),
          life.probeIntervalMs,
        );
        if (life.closed) return;
        const entries = streamEntries(reply);
        attempt = 0;
        life.set("up");
        for (const [id, number, message] of entries) this.#received(id, number, message);
      } catch (error) {
        if (life.closed) return;
        if (life.status !== "down") life.onError(error);
        life.set("down");
        await life.sleep(life.backoff(attempt++));
      }
    }
  }

  /**
   * Waits for `reply` at most `probeIntervalMs` (and `BLOCK_SLACK_MS`) past `blockMs`,
   * then rejects: a command that never settles (a paused Redis, a connection the client
   * lost track of) must not stop the backplane, which tries again. A reply that comes
   * after is ignored: a batch stored twice is delivered once, and reads go on from the
   * last id delivered.
   */
  #bounded<T>(command: string, reply: Promise<T>, blockMs = 0): Promise<T> {
    const ms = blockMs + this.#life.probeIntervalMs + BLOCK_SLACK_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    reply.catch(() => {}); // Settling after the timeout is no error.
    return Promise.race([
      reply,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer ${command} within ${ms} ms`)),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * The id the stream last gave an entry and its count of entries added, or `0-0` and 0
   * when there is no stream.
   */
  async #end(): Promise<[string, number]> {
    let info: unknown;
    try {
      info = await this.#bounded("XINFO", this.#redis.call(["XINFO", "STREAM", this.#stream]));
    } catch (error) {
      if (/no such key/i.test(String((error as Error)?.message))) return ["0-0", 0];
      throw error;
    }
    return [field(info, "last-generated-id"), Number(field(info, "entries-added"))];
  }

  /** Delivers one entry, once, and never throws. */
  #received(id: string, number: number, message: unknown): void {
    if (compareIds(id, this.#lastId!) <= 0) return;
    const after = this.#lastId!;
    const lost = number - this.#lastNumber - 1;
    this.#lastId = id;
    this.#lastNumber = number;
    if (lost > 0) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Lost ${lost} messages of stream "${this.#stream}" that Redis trimmed before this ` +
            `process read them: after id ${after}, before id ${id}`,
        ),
      );
    } else if (lost < -1 || Number.isNaN(lost)) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Redis lost stream "${this.#stream}" (its count of entries went back to ${number}): ` +
            `messages after id ${after} and before id ${id} may be lost`,
        ),
      );
    }
    const parsed = parseEnvelope(message, true);
    if (typeof parsed === "string") return this.#malformed(parsed, message);
    const { origin, topic, seq } = parsed;
    const last = this.#seqs.get(origin);
    if (last !== undefined && seq! <= last) return;
    this.#seqs.set(origin, seq!);
    if (last !== undefined && seq! > last + 1 && lost <= 0) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Lost messages ${last + 1} to ${seq! - 1} of process ${origin} on stream ` +
            `"${this.#stream}", dropped before Redis stored them (the next, ${seq}, has id ${id})`,
        ),
      );
    }
    const data = envelopeData(parsed);
    if (data === undefined) return this.#malformed("its payload is not base64", message);
    let except: ReadonlySet<unknown> | undefined;
    if (origin === this.origin) {
      for (const [counted, set] of this.#excepts) {
        if (counted > seq!) break;
        if (counted === seq) except = set;
        this.#excepts.delete(counted);
      }
    }
    try {
      this.#listener?.(topic, data, id, except);
    } catch (error) {
      this.#life.onError(error);
    }
  }

  #malformed(reason: string, message: unknown): void {
    this.#life.onError(malformedError(`stream "${this.#stream}"`, reason, message));
  }
}

/**
 * Messages a {@linkcode RedisStreamsBackplane} knows it did not deliver: trimmed by Redis
 * before this process read them, lost by Redis, or dropped by their publisher at its
 * pending bound. Given to `onError`.
 */
export class TrimmedError extends Error {
  /** The last id delivered before the gap. */
  readonly after: string;
  /** The id where delivery went on (or the last id trimmed). */
  readonly until: string;

  /**
   * Makes the report of one gap.
   * @param after The last id delivered.
   * @param until Where delivery went on.
   * @param message What was lost, in words.
   */
  constructor(after: string, until: string, message: string) {
    super(message);
    this.name = "TrimmedError";
    this.after = after;
    this.until = until;
  }
}

/**
 * The `[id, number, message]` of each entry of an `XREAD` reply on one stream (null: none), as RESP2
 * arrays (`[[key, entries]]`) or a RESP3 map (`{ key: entries }`, as a `Map` or an object).
 */
function streamEntries(reply: unknown): [string, number, unknown][] {
  const streams = keyValues(reply);
  const entries = streams[0]?.[1];
  if (!Array.isArray(entries)) return [];
  return entries.map((entry) => {
    const [id, fields] = entry as [unknown, unknown];
    const values = Array.isArray(fields) ? fields : [];
    return [String(id), Number(values[values.indexOf("n") + 1]), values[values.indexOf("m") + 1]];
  });
}

/** A field of an `XINFO STREAM` reply (`0-0` when it lacks it). */
function field(info: unknown, name: string): string {
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

const CALLER = "new RedisStreamsBackplane()";

/**
 * How late Redis may end an `XREAD BLOCK` that found nothing: it checks blocked
 * clients' deadlines on its 10 Hz cron, so up to 100 ms late, plus scheduling.
 */
const BLOCK_SLACK_MS = 250;

/** Checks of each option: the type checker keeps the list complete. */
const OPTION_CHECKS: {
  [Name in keyof Required<RedisStreamsBackplaneOptions>]: (value: unknown) => void;
} = {
  stream: (value) => {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw optionTypeError(CALLER, "stream", "a non-empty string", value);
    }
  },
  retention: (value) => {
    if (value === undefined) return;
    const expected = "{ maxLength } or { maxAgeMs }, with an optional exact";
    if (!isOptionsObject(value)) throw optionTypeError(CALLER, "retention", expected, value);
    const keys = Object.keys(value).filter((key) => key !== "exact");
    if (keys.length !== 1 || (keys[0] !== "maxLength" && keys[0] !== "maxAgeMs")) {
      throw optionTypeError(CALLER, "retention", expected, value);
    }
    const amount = value[keys[0]];
    if (typeof amount !== "number") throw optionTypeError(CALLER, "retention", expected, value);
    if (!Number.isInteger(amount) || amount < 1) {
      throw optionRangeError(CALLER, `retention.${keys[0]}`, "an integer of at least 1", amount);
    }
    if (value.exact !== undefined && typeof value.exact !== "boolean") {
      throw optionTypeError(CALLER, "retention.exact", "a boolean", value.exact);
    }
  },
  batchSize: (value) => checkInteger(CALLER, "batchSize", value, 1),
  ...lifecycleChecks(CALLER),
};

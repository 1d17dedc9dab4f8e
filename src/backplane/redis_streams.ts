/**
 * A durable backplane over Redis streams, on the Redis client you already use.
 * @module
 */

import {
  checkInteger,
  checkOptionNames,
  checkType,
  describeValue,
  isOptionsObject,
  optionRangeError,
  optionTypeError,
} from "../core/options.ts";
import type { Backplane } from "../site/backplane.ts";
import { compareIds } from "../site/replay.ts";
import { CLUSTER_SLOTS, clusterSlot } from "./cluster_slot.ts";
import { envelopeData, formatPublished, malformedError, parseEnvelope } from "./envelope.ts";
import { Interest } from "./interest.ts";
import {
  type BackplaneStatus,
  Lifecycle,
  lifecycleChecks,
  type LifecycleOptions,
} from "./lifecycle.ts";
import { countKey, partitionKey, streamPartition } from "./stream_partition.ts";
import { field, idTime, streamEntries } from "./stream_replies.ts";
import { TrimmedError } from "./trimmed_error.ts";

/**
 * Two ways to send a Redis command on the client of your choice, each taking the
 * command and its arguments as strings, and the key of the stream it is about (a Redis
 * Cluster client sends the command to the node serving that key; a client of one Redis
 * ignores it), and resolving with Redis's reply, as RESP2 arrays of strings or RESP3 maps
 * (node-redis's `sendCommand`, ioredis's `call`, Bun's `send`). `block` must use a
 * connection of its own: it waits in `XREAD BLOCK`, which holds the connection; with
 * `sharded: true`, one connection per key.
 */
export interface RedisStreamCommands {
  /** Sends `EVAL` (which runs `XADD`), `XINFO`, `PING` or `CLIENT UNBLOCK`, on any connection. */
  call(command: string[], key: string): Promise<unknown>;
  /** Sends `XREAD BLOCK` (and `CLIENT ID`), on a connection nothing else uses. */
  block(command: string[], key: string): Promise<unknown>;
}

/**
 * How much of each stream Redis keeps: the last `maxLength` messages, or those of the
 * last `maxAgeMs` (by the publishing process's clock). A process that is away for longer
 * than this misses messages, and reports which.
 */
export type StreamRetention =
  | {
    /** How many messages to keep, per partition. */
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
 * `onError` says so (once until the queue drains); every process reading its partition
 * then also reports the hole in that publisher's numbering, as it reports a trimmed gap.
 */
export interface RedisStreamsBackplaneOptions extends LifecycleOptions {
  /**
   * The streams' name: every process whose backplane uses the same name (and the same
   * `partitions`) shares topics. Give each application its own, and keep `{` and `}` out
   * of it (a hash tag there would put every partition in one cluster slot).
   * @default "wsport:stream"
   */
  stream?: string;
  /**
   * How many streams the topics are spread over. A topic's messages go to partition `p`,
   * a stable hash of its name (see `streamPartition()`), whose key is
   * `<stream>:{<p>}`, a cluster slot of its own; a process reads only the partitions
   * holding a topic with a subscriber in this process. With `1`, one stream at the key
   * `stream` itself, the format of wsport before partitions, which processes of that
   * version share: use it until every process runs this one. Every process on a stream
   * must use the same number; to change it, give the new setting a new `stream`.
   * @default 16
   */
  partitions?: number;
  /**
   * Whether the streams live on a Redis Cluster. Keys of different slots cannot share a
   * command there, so each partition is read by a command of its own, and `block` must
   * give each key its own connection (see {@linkcode RedisStreamsBackplane}'s example).
   * Without it, one `XREAD` reads every partition this process wants.
   * @default false
   */
  sharded?: boolean;
  /**
   * How much of each partition Redis keeps.
   * @default { maxLength: 10_000 }
   */
  retention?: StreamRetention;
  /**
   * Most entries one `XREAD` returns per partition, and most messages one `EVAL` appends.
   * @default 256
   */
  batchSize?: number;
}

/**
 * Appends each message to `KEYS[1]` with the trim arguments `ARGV[2..ARGV[1]+1]`, in one
 * step, so a batch is stored whole or not at all, each entry numbered (`n`) by the
 * stream's count of entries ever added, so a reader sees a trimmed gap by a jump in it;
 * returns the ids. The count is kept in `KEYS[2]`, and taken from `XINFO STREAM`'s
 * `entries-added` only when that key is missing: `XINFO` copies the stream's first and
 * last entries into the script, which cost 37% of a one-message append of 100 bytes and
 * 49% of one of 16 KiB (Redis 7.0, server time).
 */
const APPEND = `local added = tonumber(redis.call('GET', KEYS[2]))
if added == nil then
  added = 0
  if redis.call('EXISTS', KEYS[1]) == 1 then
    local info = redis.call('XINFO', 'STREAM', KEYS[1])
    for i = 1, #info, 2 do
      if info[i] == 'entries-added' then added = info[i + 1] end
    end
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
redis.call('SET', KEYS[2], added + #ARGV - n - 1)
return ids`;

/** A message waiting to be appended, and its partition's key. */
interface Outgoing {
  readonly message: string;
  readonly key: string;
}

/** What this process knows of a partition it reads. */
interface Partition {
  /** The id of the last entry read, or `undefined` until the reader found the end. */
  lastId: string | undefined;
  /** The partition's count of entries added, as of the last entry read (NaN: unknown). */
  lastNumber: number;
  /** The end of the partition when this process started reading it. */
  startId: string | undefined;
  /**
   * While it reads what came before `startId` for subscriptions `since` an id: the id
   * each of their topics resumes after. Only their messages after it are delivered.
   */
  catchUp: Map<string, string> | undefined;
  /** Each publisher's last count delivered, and when (entry number and time) it came. */
  readonly seqs: Map<string, { seq: number; number: number; time: number }>;
  /** The entry number at which the next pruning of `seqs` is due. */
  pruneAt: number;
  /** The `except` of each of this process's messages not yet delivered, by count. */
  readonly excepts: Map<number, ReadonlySet<unknown>>;
}

/** A loop reading some partitions: all of them in one `XREAD`, or one when sharded. */
interface Reader {
  /** The keys it reads. */
  readonly keys: Set<string>;
  /** The id of its connection (`CLIENT ID`), to end its wait; "" when Redis refuses it. */
  clientId: string | undefined;
  /** Whether it is waiting in `XREAD BLOCK`. */
  blocked: boolean;
}

/**
 * Carries a site's published messages between processes through Redis streams, so that
 * none is lost to an outage shorter than the streams' retention.
 *
 * Topics are spread over `partitions` streams (a stable hash of the topic's name picks
 * one), and each process reads only the partitions that hold a topic with a subscriber in
 * it, from the id it last delivered: one `XREAD BLOCK` names them all on one Redis, one
 * per partition on a Redis Cluster (`sharded`), where each partition has a slot of its
 * own. A process with no subscriber for any topic of a partition reads and decodes
 * nothing of it; one with a subscriber on each partition reads everything, as with one
 * stream. The choice of `partitions` is a trade: more of them spread the streams over
 * more cluster nodes and route more finely, and cost a longer `XREAD` (or, sharded, a
 * connection per partition read). Interest follows the site's topics in batches (see
 * `Interest`).
 *
 * Each published message waits in this process, in order, until Redis stored it (one
 * `EVAL` per partition appends a batch with `XADD`, trimming to `retention`). Each
 * process delivers its own messages too only when they come back, so **every process
 * delivers the messages of a partition in one order, the order Redis stored them: a
 * total order per topic** (not across topics of different partitions). After Redis
 * restarts (with `appendonly yes` and `appendfsync always`: with `everysec` a crash can
 * lose the last second of acknowledged writes), a network blip, or a pause of this
 * process shorter than the retention, it catches up: every subscriber gets every
 * message exactly once. Each message carries its publisher's count on its partition, so
 * one stored twice (Redis stored a batch but the reply was lost, and it was sent again)
 * is delivered once; and each entry carries its partition's count of entries added
 * (`XINFO STREAM`'s `entries-added`, Redis 7 or later), so a jump in it (Redis trimmed
 * entries before this process read them), a step back (Redis lost entries: a restart
 * without persistence, or a cluster failover, since replication is asynchronous and the
 * promoted replica may lack what the old master acknowledged) or a hole in a
 * publisher's count (it dropped messages at its bound, or a failover lost them: seen when
 * its next message on the partition comes) is reported to `onError` as a
 * {@linkcode TrimmedError} with the ids around the gap, never hidden.
 *
 * When a topic gets its first subscriber in this process and its partition was not read
 * here, the process starts reading it at the partition's end (one `XINFO STREAM`):
 * messages stored before then do not reach it, and messages this process publishes
 * meanwhile wait until it knows that end, so its own subscribers get them.
 *
 * Costs against {@linkcode RedisBackplane}: a message reaches even its own process's
 * subscribers one Redis round trip later, and Redis keeps `retention` of each partition
 * in memory. Each process remembers, per partition it reads, the last count of each
 * publisher seen within the retention (a few dozen bytes each).
 *
 * The status turns `"down"` when a read or an append fails or does not return within
 * `probeIntervalMs` past its block time (or a `PING`, while it reads nothing); `"up"`
 * when all of them work again. The Redis clients stay yours: reconnecting them is their
 * job, and {@linkcode RedisStreamsBackplane.close} leaves them open. **The streams are
 * trusted**, as {@linkcode RedisBackplane}'s channel is: allow the backplane's user only
 * its own keys (`~myapp:*` for the stream `myapp`, and `~{myapp}:n` with one partition).
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
 *
 * @example On a Redis Cluster, with node-redis
 * ```ts
 * import { createCluster } from "redis";
 * import { RedisStreamsBackplane } from "wsport/redis";
 * const cluster = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] });
 * cluster.on("error", () => {});
 * await cluster.connect();
 * // One reading connection per partition: a copy of the cluster client that connects only
 * // to the node it needs.
 * const readers = new Map<string, Promise<typeof cluster>>();
 * const reader = (key: string) => {
 *   let copy = readers.get(key);
 *   if (copy === undefined) {
 *     const client = cluster.duplicate({ minimizeConnections: true });
 *     client.on("error", () => {});
 *     readers.set(key, copy = client.connect());
 *   }
 *   return copy;
 * };
 * const backplane = new RedisStreamsBackplane({
 *   call: (command, key) => cluster.sendCommand(key, false, command),
 *   block: async (command, key) => (await reader(key)).sendCommand(key, false, command),
 * }, { stream: "myapp", sharded: true });
 * ```
 */
export class RedisStreamsBackplane implements Backplane {
  /** This process's id, sent with each message. */
  readonly origin: string = crypto.randomUUID();
  /** Messages come back through the stream, this process's own included. */
  readonly ordered = true;
  readonly #redis: RedisStreamCommands;
  readonly #stream: string;
  readonly #partitionCount: number;
  readonly #retention: StreamRetention;
  readonly #batchSize: number;
  readonly #life: Lifecycle;
  /** The topics with a subscriber here, and the partitions they need read. */
  readonly #interest: Interest;
  #listener:
    | ((
      topic: string,
      data: string | Uint8Array,
      id: string,
      except?: ReadonlySet<unknown>,
    ) => void)
    | undefined;
  /** This process's count of its messages, per partition. */
  readonly #counts = new Map<string, number>();
  /** Messages waiting for Redis, in order; the first ones may be on their way. */
  #queue: Outgoing[] = [];
  /** Resolves when the appending loop is done with what is queued. */
  #flushing: Promise<void> | undefined;
  /** The partitions this process reads, by key. */
  readonly #reading = new Map<string, Partition>();
  /** The loops reading them, by group: "" for all, or a key of its own when sharded. */
  readonly #readers = new Map<string, Reader>();
  readonly #sharded: boolean;
  /** What failed at its last attempt: "append", "ping" or "read <group>". */
  readonly #failing = new Set<string>();
  /** Called when a partition found its end or stopped being read. */
  #positionWaiters: (() => void)[] = [];
  /** The topics subscribed `since` an id, by partition, until it starts being read. */
  readonly #catchUps = new Map<string, Map<string, string>>();

  /**
   * Starts at once; the status turns `"up"` when Redis first answers. Messages published
   * before then wait.
   *
   * @param redis The Redis commands, on your client.
   * @param options The streams, their retention, the intervals and the hooks.
   * @throws {RangeError} For a negative or non-integer interval, size or maximum.
   * @throws {TypeError} When `redis` lacks `call` or `block`, `options` is not an object,
   *   an option's name is unknown, `stream` is not a non-empty string, `retention` is not
   *   one of its two shapes, `sharded` is not a boolean, a number option is not a
   *   number, or a hook is not a function.
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
    const partitions = this.#partitionCount = options.partitions ?? 16;
    this.#sharded = options.sharded ?? false;
    this.#retention = options.retention ?? { maxLength: 10_000 };
    this.#batchSize = options.batchSize ?? 256;
    this.#life = new Lifecycle(options);
    this.#interest = new Interest({
      channel: (topic) => this.#key(topic),
      subscribe: (keys) => Promise.resolve(this.#startReading(keys)),
      unsubscribe: (keys) => Promise.resolve(this.#stopReading(keys)),
      group: this.#sharded ? clusterSlot : undefined,
      maxChannelsPerCommand: partitions,
      maxCommandsInFlight: partitions,
      onError: this.#life.onError,
    });
    this.#watch();
  }

  /** Where the backplane stands. */
  get status(): BackplaneStatus {
    return this.#life.status;
  }

  /**
   * Queues a message for its topic's partition. Past `maxPendingPublishes` or
   * `maxPendingBytes` it is dropped, for every process, and reported.
   */
  publish(topic: string, data: string | Uint8Array, except?: ReadonlySet<unknown>): void {
    if (this.#life.closed) return;
    const key = this.#key(topic);
    const seq = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, seq);
    const message = formatPublished(this.origin, topic, data, seq);
    if (!this.#life.fits(message.length)) {
      return this.#life.overflow(
        `dropped message ${seq} of "${key}" and later ones of this process until they are stored`,
      );
    }
    this.#life.hold(message.length);
    this.#queue.push({ message, key });
    if (except !== undefined && except.size > 0) this.#reading.get(key)?.excepts.set(seq, except);
    this.#flush();
  }

  /**
   * Reads the topic's partition (batched with others), if it did not: from its end, or,
   * given `since` (a stream id) while it did not read it yet, from `since`, delivering
   * the topic's messages after it, then every message of the partition from its end on.
   * Reading from `since` costs reading the partition's entries since then (at most its
   * retention); entries after `since` that Redis already trimmed are reported as a
   * {@linkcode TrimmedError}.
   * @returns `false` when it has been reading the partition from after `since` (what
   *   came between never reached this process); `true` otherwise.
   */
  subscribe(topic: string, since?: string): boolean {
    if (this.#life.closed) return since === undefined;
    let complete = true;
    if (since !== undefined) {
      const key = this.#key(topic);
      const partition = this.#reading.get(key);
      if (!STREAM_ID.test(since)) complete = false;
      else if (partition?.startId !== undefined) {
        complete = compareIds(since, partition.startId) >= 0;
      } else if (partition !== undefined) (partition.catchUp ??= new Map()).set(topic, since);
      else {
        const topics = this.#catchUps.get(key);
        if (topics === undefined) this.#catchUps.set(key, new Map([[topic, since]]));
        else topics.set(topic, since);
      }
    }
    this.#interest.add(topic);
    return complete;
  }

  /** Stops reading the topic's partition once no topic of it has a subscriber here. */
  unsubscribe(topic: string): void {
    if (this.#life.closed) return;
    this.#catchUps.get(this.#key(topic))?.delete(topic);
    this.#interest.delete(topic);
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
    for (const reader of this.#readers.values()) this.#wake(reader);
  }

  /**
   * Appends what is queued, a batch at a time (one `EVAL` per partition, at once), trying
   * again what failed, in order.
   */
  async #append(): Promise<void> {
    const life = this.#life;
    let attempt = 0;
    while (this.#queue.length > 0 && !life.closed) {
      // A partition this process starts reading must know its end before its own
      // messages go, or its subscribers would miss them.
      await this.#interest.settled();
      const batches = new Map<string, Outgoing[]>();
      for (const outgoing of this.#queue.slice(0, this.#batchSize)) {
        const batch = batches.get(outgoing.key);
        if (batch === undefined) batches.set(outgoing.key, [outgoing]);
        else batch.push(outgoing);
      }
      await this.#whenPositioned([...batches.keys()]);
      if (life.closed) return;
      const trim = this.#trim();
      const sent = [...batches].map(([key, batch]) =>
        this.#bounded(
          "EVAL",
          this.#redis.call([
            "EVAL",
            APPEND,
            "2",
            key,
            countKey(key),
            String(trim.length),
            ...trim,
            ...batch.map((outgoing) => outgoing.message),
          ], key),
        )
      );
      const results = await Promise.allSettled(sent);
      const stored = new Set<Outgoing>();
      let failure: PromiseRejectedResult | undefined;
      for (const [i, batch] of [...batches.values()].entries()) {
        const result = results[i];
        if (result.status === "rejected") failure ??= result;
        else for (const outgoing of batch) stored.add(outgoing);
      }
      if (stored.size > 0) {
        this.#queue = this.#queue.filter((outgoing) => !stored.has(outgoing));
        for (const outgoing of stored) life.release(outgoing.message.length);
      }
      if (life.closed) return;
      if (failure === undefined) {
        attempt = 0;
        this.#health("append");
        continue;
      }
      this.#health("append", failure.reason);
      await life.sleep(life.backoff(attempt++));
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

  /** Starts reading partitions: from their end, by a reader of their group. */
  #startReading(keys: string[]): void {
    for (const key of keys) {
      const catchUp = this.#catchUps.get(key);
      this.#catchUps.delete(key);
      this.#reading.set(key, {
        lastId: undefined,
        lastNumber: 0,
        startId: undefined,
        catchUp,
        seqs: new Map(),
        pruneAt: 0,
        excepts: new Map(),
      });
      const group = this.#sharded ? key : "";
      const reader = this.#readers.get(group);
      if (reader !== undefined) {
        reader.keys.add(key);
        this.#wake(reader);
        continue;
      }
      const started: Reader = { keys: new Set([key]), clientId: undefined, blocked: false };
      this.#readers.set(group, started);
      this.#read(group, started);
    }
  }

  /** Stops reading partitions, forgetting what it knew of them. */
  #stopReading(keys: string[]): void {
    for (const key of keys) {
      this.#reading.delete(key);
      this.#catchUps.delete(key);
      this.#readers.get(this.#sharded ? key : "")?.keys.delete(key);
    }
    this.#positioned();
  }

  /** Ends a reader's `XREAD BLOCK` now, so that it reads its new keys at once. */
  #wake(reader: Reader): void {
    const id = reader.clientId;
    if (!reader.blocked || id === undefined || id === "") return;
    const key = reader.keys.values().next().value;
    if (key !== undefined) this.#redis.call(["CLIENT", "UNBLOCK", id], key).catch(() => {});
  }

  /**
   * Reads a reader's partitions from the last id delivered of each, for as long as it has
   * some and the backplane is open: first the end of those it starts, then `XREAD BLOCK`.
   */
  async #read(group: string, reader: Reader): Promise<void> {
    const life = this.#life;
    const health = `read ${group}`;
    let attempt = 0;
    while (!life.closed && reader.keys.size > 0) {
      try {
        for (const key of reader.keys) {
          const partition = this.#reading.get(key);
          if (partition === undefined || partition.lastId !== undefined) continue;
          const end = await this.#end(key);
          if (this.#reading.get(key) === partition) this.#position(key, partition, end);
        }
        this.#positioned();
        if (reader.keys.size === 0) continue;
        if (reader.clientId === undefined) {
          reader.clientId = await this.#clientId(reader.keys.values().next().value!);
          continue; // keys may have come meanwhile
        }
        // From here to the XREAD nothing waits: a key added meanwhile would wake it.
        const keys = [...reader.keys];
        if (keys.some((key) => this.#reading.get(key)?.lastId === undefined)) continue;
        const ids = keys.map((key) => this.#reading.get(key)!.lastId!);
        const block = String(life.probeIntervalMs);
        const command = ["XREAD", "COUNT", String(this.#batchSize), "BLOCK", block, "STREAMS"];
        reader.blocked = true;
        const reply = await this.#bounded(
          "XREAD",
          this.#redis.block([...command, ...keys, ...ids], keys[0]),
          life.probeIntervalMs,
        ).finally(() => reader.blocked = false);
        if (life.closed) return;
        attempt = 0;
        this.#health(health);
        for (const [key, entries] of streamEntries(reply)) {
          const partition = this.#reading.get(key);
          if (partition?.lastId === undefined) continue;
          for (const [id, number, message] of entries) {
            this.#received(key, partition, id, number, message);
          }
        }
      } catch (error) {
        if (life.closed) return;
        reader.clientId = undefined; // the connection may be a new one
        this.#health(health, error);
        await life.sleep(life.backoff(attempt++));
      }
    }
    if (this.#readers.get(group) === reader) this.#readers.delete(group);
    this.#failing.delete(health);
  }

  /** The id of the reading connection of `key`, or "" when Redis refuses `CLIENT ID`. */
  async #clientId(key: string): Promise<string> {
    try {
      return String(await this.#bounded("CLIENT ID", this.#redis.block(["CLIENT", "ID"], key)));
    } catch (error) {
      if (/NOPERM|unknown/i.test(String((error as Error)?.message))) return "";
      throw error;
    }
  }

  /**
   * Checks that Redis answers (`PING`) every `probeIntervalMs` while this process reads
   * no partition, since then no read would notice it gone.
   */
  async #watch(): Promise<void> {
    const life = this.#life;
    while (!life.closed) {
      if (this.#readers.size > 0) this.#failing.delete("ping");
      else {
        try {
          await this.#bounded("PING", this.#redis.call(["PING"], this.#firstKey()));
          this.#health("ping");
        } catch (error) {
          if (life.closed) return;
          this.#health("ping", error);
        }
      }
      await life.sleep(life.probeIntervalMs);
    }
  }

  /** The key of the partition that holds `topic`. */
  #key(topic: string): string {
    const partitions = this.#partitionCount;
    return partitionKey(this.#stream, streamPartition(topic, partitions), partitions);
  }

  #firstKey(): string {
    return partitionKey(this.#stream, 0, this.#partitionCount);
  }

  /** Notes how the last attempt of `what` went, and sets the status from all of them. */
  #health(what: string, error?: unknown): void {
    const life = this.#life;
    if (error === undefined) {
      this.#failing.delete(what);
      if (this.#failing.size === 0) life.set("up");
      return;
    }
    if (life.status !== "down") life.onError(error);
    this.#failing.add(what);
    life.set("down");
  }

  /** Resolves once every partition of `keys` that this process reads knows its end. */
  #whenPositioned(keys: string[]): Promise<void> {
    const waiting = () =>
      keys.some((key) => {
        const partition = this.#reading.get(key);
        return partition !== undefined && partition.lastId === undefined;
      });
    if (!waiting()) return Promise.resolve();
    return this.#life.wait<void>((resolve) => {
      const check = () => waiting() ? void this.#positionWaiters.push(check) : resolve();
      check();
      return resolve;
    });
  }

  /** Lets the waits for partitions to know their end check again. */
  #positioned(): void {
    for (const check of this.#positionWaiters.splice(0)) check();
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
   * The id a partition last gave an entry, its count of entries added, and the last id
   * it trimmed, or `0-0`, 0 and `0-0` when there is no such stream.
   */
  async #end(key: string): Promise<[string, number, string]> {
    let info: unknown;
    try {
      info = await this.#bounded("XINFO", this.#redis.call(["XINFO", "STREAM", key], key));
    } catch (error) {
      if (/no such key/i.test(String((error as Error)?.message))) return ["0-0", 0, "0-0"];
      throw error;
    }
    return [
      field(info, "last-generated-id"),
      Number(field(info, "entries-added")),
      field(info, "max-deleted-entry-id"),
    ];
  }

  /**
   * Sets where a partition is read from: its end, or the oldest `since` of the topics
   * subscribed since an id (reporting it when Redis already trimmed entries after it).
   */
  #position(
    key: string,
    partition: Partition,
    [end, number, trimmed]: [string, number, string],
  ): void {
    partition.startId = end;
    partition.lastId = end;
    partition.lastNumber = number;
    const catchUp = partition.catchUp;
    if (catchUp === undefined) return;
    let from = end;
    for (const since of catchUp.values()) if (compareIds(since, from) < 0) from = since;
    if (from === end) return void (partition.catchUp = undefined);
    partition.lastId = from;
    partition.lastNumber = Number.NaN; // The count at `from` is not known: no jump to see.
    if (compareIds(from, trimmed) < 0) {
      this.#life.onError(
        new TrimmedError(
          from,
          trimmed,
          `Lost messages of stream "${key}" after id ${from}, asked for by a subscription ` +
            `since it: Redis trimmed them up to id ${trimmed}`,
        ),
      );
    }
  }

  /** Delivers one entry of partition `key`, once, and never throws. */
  #received(
    key: string,
    partition: Partition,
    id: string,
    number: number,
    message: unknown,
  ): void {
    const after = partition.lastId!;
    if (compareIds(id, after) <= 0) return;
    const lost = Number.isNaN(partition.lastNumber) ? 0 : number - partition.lastNumber - 1;
    partition.lastId = id;
    partition.lastNumber = number;
    if (lost > 0) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Lost ${lost} messages of stream "${key}" that Redis trimmed before this ` +
            `process read them: after id ${after}, before id ${id}`,
        ),
      );
    } else if (lost < -1 || Number.isNaN(lost)) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Redis lost stream "${key}" (its count of entries went back to ${number}): ` +
            `messages after id ${after} and before id ${id} may be lost`,
        ),
      );
    }
    if (number >= partition.pruneAt) this.#prune(partition);
    const parsed = parseEnvelope(message, true);
    if (typeof parsed === "string") return this.#malformed(key, parsed, message);
    const { origin, topic } = parsed;
    const seq = parsed.seq!;
    const seen = partition.seqs.get(origin);
    if (seen !== undefined && seq <= seen.seq) return;
    const last = seen?.seq;
    const time = idTime(id);
    if (seen === undefined) partition.seqs.set(origin, { seq, number, time });
    else [seen.seq, seen.number, seen.time] = [seq, number, time];
    if (last !== undefined && seq > last + 1 && lost <= 0) {
      this.#life.onError(
        new TrimmedError(
          after,
          id,
          `Lost messages ${last + 1} to ${seq - 1} of process ${origin} on stream ` +
            `"${key}", dropped before Redis stored them or lost by Redis in a failover ` +
            `(the next, ${seq}, has id ${id})`,
        ),
      );
    }
    const catchUp = partition.catchUp;
    if (catchUp !== undefined) {
      if (compareIds(id, partition.startId!) > 0) partition.catchUp = undefined;
      else {
        // From before this process read the partition: only for subscriptions since an id.
        const since = catchUp.get(topic);
        if (since === undefined || compareIds(id, since) <= 0) return;
      }
    }
    const data = envelopeData(parsed);
    if (data === undefined) return this.#malformed(key, "its payload is not base64", message);
    let except: ReadonlySet<unknown> | undefined;
    if (origin === this.origin) {
      for (const [counted, set] of partition.excepts) {
        if (counted > seq) break;
        if (counted === seq) except = set;
        partition.excepts.delete(counted);
      }
    }
    try {
      this.#listener?.(topic, data, id, except);
    } catch (error) {
      this.#life.onError(error);
    }
  }

  /**
   * Forgets the publishers last seen on a partition longer ago than the retention (a
   * process that restarts is a new publisher each time): a message of theirs stored
   * twice could no longer be read twice. Runs every `PRUNE_EVERY` entries.
   */
  #prune(partition: Partition): void {
    partition.pruneAt = partition.lastNumber + PRUNE_EVERY;
    const retention = this.#retention;
    const now = partition.lastNumber;
    const time = idTime(partition.lastId!);
    for (const [origin, seen] of partition.seqs) {
      const old = "maxLength" in retention
        ? now - seen.number > retention.maxLength
        : time - seen.time > retention.maxAgeMs;
      if (old) partition.seqs.delete(origin);
    }
  }

  #malformed(key: string, reason: string, message: unknown): void {
    this.#life.onError(malformedError(`stream "${key}"`, reason, message));
  }
}

const CALLER = "new RedisStreamsBackplane()";

/**
 * How late Redis may end an `XREAD BLOCK` that found nothing: it checks blocked
 * clients' deadlines on its 10 Hz cron, so up to 100 ms late, plus scheduling.
 */
const BLOCK_SLACK_MS = 250;

/** A stream id: milliseconds, a dash, a sequence number. */
const STREAM_ID = /^\d+-\d+$/;

/** How many entries of a partition go by between two prunings of its publishers' counts. */
const PRUNE_EVERY = 1_024;

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
  partitions: (value) => checkInteger(CALLER, "partitions", value, 1, CLUSTER_SLOTS),
  sharded: (value) => checkType(CALLER, "sharded", value, "boolean"),
  batchSize: (value) => checkInteger(CALLER, "batchSize", value, 1),
  ...lifecycleChecks(CALLER),
};

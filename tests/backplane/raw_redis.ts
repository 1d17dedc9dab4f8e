/**
 * A bare Redis connection speaking RESP2 over `node:net`, for the backplane's restart
 * test. It reconnects when dropped and queues commands while it is, as node-redis does,
 * but it never subscribes again by itself (node-redis does): after a restart only the
 * backplane's own re-subscription brings messages back.
 * @module
 */
import { Buffer } from "node:buffer";
import { createConnection, type Socket } from "node:net";
import type { RedisPubSub } from "../../src/backplane/redis.ts";

/** A RESP2 value: a string, an integer, null, an error reply, or an array of values. */
type Reply = string | number | null | Error | Reply[];

/**
 * The first value in `buffer` from `at`, and where the next one starts; `undefined` when
 * the buffer does not hold all of it yet.
 */
function parseReply(buffer: Buffer, at: number): [Reply, number] | undefined {
  const end = buffer.indexOf("\r\n", at);
  if (end < 0) return undefined;
  const line = buffer.toString("utf8", at + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(buffer[at])) {
    case "+":
      return [line, next];
    case "-":
      return [new Error(line), next];
    case ":":
      return [Number(line), next];
    case "$": {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString("utf8", next, next + length), next + length + 2];
    }
    case "*": {
      const items: Reply[] = [];
      let from = next;
      for (let i = 0; i < Number(line); i++) {
        const parsed = parseReply(buffer, from);
        if (parsed === undefined) return undefined;
        items.push(parsed[0]);
        from = parsed[1];
      }
      return [items, from];
    }
  }
  throw new Error(`Not a RESP2 reply: ${JSON.stringify(line)}`);
}

/** A command as RESP2 bytes: an array of bulk strings. */
function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n` +
    args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("");
}

/** One connection to Redis that reconnects when dropped. */
export class RawRedis {
  /** Gets each `message` pushed on a subscribed channel. */
  onMessage: ((channel: string, message: string) => void) | undefined;
  readonly #port: number;
  #socket: Socket | undefined;
  #connected = false;
  #closed = false;
  #buffer = Buffer.alloc(0);
  /** Commands sent and waiting for their reply, in order. */
  #waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  /** Commands made while disconnected, sent on the next connection. */
  #queued: string[] = [];
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(port: number) {
    this.#port = port;
    this.#connect();
  }

  /** Sends a command (now, or once connected) and resolves with its reply. */
  command(...args: string[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error("closed"));
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.push({
        resolve: (reply) => reply instanceof Error ? reject(reply) : resolve(reply),
        reject,
      });
      if (this.#connected) this.#socket!.write(encodeCommand(args));
      else this.#queued.push(encodeCommand(args));
    });
  }

  /** Closes the connection for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket?.destroy();
  }

  #connect(): void {
    const socket = this.#socket = createConnection({ port: this.#port, host: "127.0.0.1" });
    socket.on("connect", () => {
      this.#connected = true;
      for (const command of this.#queued.splice(0)) socket.write(command);
    });
    socket.on("data", (chunk: Buffer) => this.#received(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#connected = false;
      this.#buffer = Buffer.alloc(0);
      // Replies to what was sent will not come; what was queued waits for the next connection.
      const sent = this.#waiting.length - this.#queued.length;
      for (const waiter of this.#waiting.splice(0, sent)) {
        waiter.reject(new Error("connection lost"));
      }
      if (!this.#closed) this.#retry = setTimeout(() => this.#connect(), 50);
    });
  }

  #received(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    let at = 0;
    for (let parsed; (parsed = parseReply(this.#buffer, at)) !== undefined;) {
      const [reply] = parsed;
      at = parsed[1];
      if (Array.isArray(reply) && reply[0] === "message") {
        this.onMessage?.(String(reply[1]), String(reply[2]));
      } else this.#waiting.shift()?.resolve(reply);
    }
    this.#buffer = this.#buffer.subarray(at);
  }
}

/** The backplane's commands over two bare connections: one publishes, one subscribes. */
export function rawPubSub(port: number): { redis: RedisPubSub; close(): void } {
  const publisher = new RawRedis(port);
  const subscriber = new RawRedis(port);
  const listeners = new Map<string, (message: string) => void>();
  subscriber.onMessage = (channel, message) => listeners.get(channel)?.(message);
  return {
    redis: {
      publish: (channel, message) => publisher.command("PUBLISH", channel, message),
      subscribe: (channels, listener) => {
        for (const channel of channels) listeners.set(channel, listener);
        return subscriber.command("SUBSCRIBE", ...channels);
      },
      unsubscribe: (channels) => {
        for (const channel of channels) listeners.delete(channel);
        return subscriber.command("UNSUBSCRIBE", ...channels);
      },
    },
    close() {
      publisher.close();
      subscriber.close();
    },
  };
}

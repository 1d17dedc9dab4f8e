// The wire checks catch what they are for: servers made up here with node:zlib, each
// right or wrong in one way, go through assertCompressedOnTheWire().
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { assertCompressedOnTheWire, MESSAGES } from "./scenario.ts";
import type { TappedMessage, Wire } from "./tap.ts";

/** How a made-up peer compresses. */
interface Compressor {
  windowBits: number;
  /** Whether it keeps its context from one message to the next. */
  takeover: boolean;
}

/** Compresses one message on `deflate`, as RFC 7692 §7.2.1 sends it (trailer removed). */
function compressOne(deflate: zlib.DeflateRaw, data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const collect = (chunk: Uint8Array) => chunks.push(chunk);
    deflate.on("data", collect);
    deflate.write(data, (error) => {
      deflate.off("data", collect);
      if (error) return reject(error);
      const output = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        output.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(output.subarray(0, output.length - 4));
    });
  });
}

/** {@linkcode MESSAGES} as `compressor` sends them: 1024 bytes and more compressed. */
async function send(compressor: Compressor): Promise<TappedMessage[]> {
  const deflate = zlib.createDeflateRaw({
    windowBits: compressor.windowBits,
    flush: zlib.constants.Z_SYNC_FLUSH,
  });
  const sent: TappedMessage[] = [];
  try {
    for (const message of MESSAGES) {
      const opcode = typeof message === "string" ? 1 : 2;
      const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
      if (bytes.length < 1024) {
        sent.push({ opcode, compressed: false, payload: bytes });
        continue;
      }
      sent.push({ opcode, compressed: true, payload: await compressOne(deflate, bytes) });
      if (!compressor.takeover) deflate.reset();
    }
  } finally {
    deflate.close();
  }
  return sent;
}

/** A connection where the server answered `extensions` and each peer compressed so. */
async function wire(
  extensions: string,
  server: Compressor,
  client: Compressor = { windowBits: 15, takeover: true },
): Promise<Wire> {
  const [outbound, inbound] = [await send(server), await send(client)];
  return { extensions, messages: (direction) => direction === "out" ? outbound : inbound };
}

const TAKEOVER_15 = { windowBits: 15, takeover: true };

describe("assertCompressedOnTheWire()", () => {
  test("accepts context takeover with a 15-bit window", async () => {
    assertCompressedOnTheWire(await wire("permessage-deflate", TAKEOVER_15), "permessage-deflate");
  });

  test("accepts each message compressed alone under server_no_context_takeover", async () => {
    const answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    const alone = { windowBits: 15, takeover: false };
    assertCompressedOnTheWire(await wire(answer, alone, alone), answer);
  });

  test("accepts 10-bit windows when server_max_window_bits=10 was agreed", async () => {
    const answer = "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10";
    const narrow = { windowBits: 10, takeover: true };
    assertCompressedOnTheWire(await wire(answer, narrow, narrow), answer);
  });

  test("rejects a 15-bit window after server_max_window_bits=10", async () => {
    const answer = "permessage-deflate; server_max_window_bits=10";
    await assert.rejects(
      async () => assertCompressedOnTheWire(await wire(answer, TAKEOVER_15), answer),
      /the server's messages do not inflate .* 10-bit window: invalid distance too far back/,
    );
  });

  test("rejects a context kept under server_no_context_takeover", async () => {
    const answer = "permessage-deflate; server_no_context_takeover";
    await assert.rejects(
      async () => assertCompressedOnTheWire(await wire(answer, TAKEOVER_15), answer),
      /the server's messages do not inflate each alone .*: invalid distance too far back/,
    );
  });

  test("rejects a context dropped although takeover was agreed", async () => {
    const answer = "permessage-deflate";
    await assert.rejects(
      async () =>
        assertCompressedOnTheWire(
          await wire(answer, { windowBits: 15, takeover: false }),
          answer,
        ),
      /with context takeover, the server compressed the same message in (\d+) then \1 bytes/,
    );
  });

  test("rejects a client window wider than client_max_window_bits", async () => {
    const answer = "permessage-deflate; client_max_window_bits=10";
    await assert.rejects(
      async () => assertCompressedOnTheWire(await wire(answer, TAKEOVER_15), answer),
      /the client's messages do not inflate .* 10-bit window: invalid distance too far back/,
    );
  });

  test("rejects an answer other than the one expected", async () => {
    const answer = "permessage-deflate; server_max_window_bits=10";
    await assert.rejects(
      async () =>
        assertCompressedOnTheWire(
          await wire(answer, { windowBits: 10, takeover: true }),
          `${answer}; client_max_window_bits=11`,
        ),
      /the 101's Sec-WebSocket-Extensions/,
    );
  });
});

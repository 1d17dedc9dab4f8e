// The tap reads frames of every length form, masked or not, fragmented with a control
// frame between, whatever the chunks, and joins them into messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { within } from "../helpers/client.ts";
import { encodeFrame, join } from "../conformance/wire.ts";
import { Tap } from "./tap.ts";

const HEAD_END = "\r\n\r\n";

/** A frame by hand (RFC 6455 §5.2): `first` is FIN, RSV and opcode; unmasked without `key`. */
const frame = (first: number, payload: Uint8Array, key?: Uint8Array): Uint8Array =>
  encodeFrame({
    opcode: first & 0x0f,
    fin: (first & 0x80) !== 0,
    rsv: (first >> 4) & 0x7,
    payload,
    mask: key ?? false,
  });

const bytes = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * seed + 1) & 0xff);
const text = (value: string) => new TextEncoder().encode(value);

const REQUEST = text("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n");
const RESPONSE = text(
  "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate" +
    HEAD_END,
);
const KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const FROM_CLIENT = join([
  frame(0x81, text("abc"), KEY),
  frame(0x02, bytes(200, 3), KEY),
  frame(0x80, bytes(1, 5), KEY),
]);
const FROM_SERVER = join([
  frame(0x81, text("Hi")),
  frame(0x82, bytes(300, 7)),
  frame(0x42, bytes(70_000, 11)),
  frame(0x89, text("ping")),
  frame(0x80, bytes(5, 13)),
]);

/** Writes `data` in 1000-byte pieces, so the tap reads frames split anywhere. */
function writeInPieces(socket: Socket, data: Uint8Array): void {
  for (let offset = 0; offset < data.length; offset += 1000) {
    socket.write(data.subarray(offset, offset + 1000));
  }
}

/** Resolves once `socket` has received `length` bytes. */
function received(socket: Socket, length: number): Promise<void> {
  return new Promise((resolve) => {
    let total = 0;
    socket.on("data", (chunk: Uint8Array) => {
      total += chunk.length;
      if (total >= length) resolve();
    });
  });
}

test("Tap reads each length form, masked or not, and joins fragments into messages", async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    received(socket, REQUEST.length + FROM_CLIENT.length).then(() => {
      writeInPieces(socket, join([RESPONSE, FROM_SERVER]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const tap = await Tap.start((server.address() as { port: number }).port);
  try {
    const client = connect(tap.port, "127.0.0.1");
    sockets.add(client);
    const answered = received(client, RESPONSE.length + FROM_SERVER.length);
    writeInPieces(client, join([REQUEST, FROM_CLIENT]));
    await within(answered, "the server's frames through the tap");

    assert.equal(tap.extensions, "permessage-deflate");
    assert.deepEqual(
      tap.frames.map(({ direction, opcode, fin, rsv, payload }) =>
        [direction, opcode, fin, rsv, payload.length].join(" ")
      ),
      [
        "in 1 true 0 3",
        "in 2 false 0 200",
        "in 0 true 0 1",
        "out 1 true 0 2",
        "out 2 true 0 300",
        "out 2 false 4 70000",
        "out 9 true 0 4",
        "out 0 true 0 5",
      ],
    );
    assert.deepEqual(tap.messages("in"), [
      { opcode: 1, compressed: false, payload: text("abc") },
      { opcode: 2, compressed: false, payload: join([bytes(200, 3), bytes(1, 5)]) },
    ]);
    assert.deepEqual(tap.messages("out"), [
      { opcode: 1, compressed: false, payload: text("Hi") },
      { opcode: 2, compressed: false, payload: bytes(300, 7) },
      { opcode: 2, compressed: true, payload: join([bytes(70_000, 11), bytes(5, 13)]) },
    ]);
  } finally {
    for (const socket of sockets) socket.destroy();
    await tap.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

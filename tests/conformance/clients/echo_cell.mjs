/**
 * One interop cell, the same in every JavaScript client (Deno, Bun, Node, `ws`, a
 * browser page): connect, echo a non-ASCII text and a 100 KiB binary message, then close
 * with 1000 and check the close was clean.
 * @module
 */

/** The text message: 2-, 3- and 4-byte UTF-8 characters. */
export const TEXT = "héllo wörld, κόσμε, 你好, 🎉";

/** The binary message: 100 KiB, every byte value. */
export const BINARY = Uint8Array.from({ length: 100 * 1024 }, (_, i) => (i * 31 + 7) & 0xff);

/** How long one cell may take. */
const CELL_TIMEOUT_MS = 10_000;

/** Bytes of a binary message as the client delivered it, or `undefined` for text. */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Says what a message was, for a failure's detail. */
function describe(data) {
  const bytes = bytesOf(data);
  return bytes === undefined
    ? `text of ${String(data).length} characters`
    : `${bytes.length} bytes`;
}

/**
 * Runs the cell against `url`.
 * @param {new (url: string) => WebSocket} WebSocketClass A class with the browser's API.
 * @param {string} url The echo endpoint.
 * @returns {Promise<{ ok: boolean, detail: string }>} How it went.
 */
export function echoCell(WebSocketClass, url) {
  return new Promise((resolve) => {
    let step = "connecting";
    let done = false;
    let socket;
    const finish = (ok, detail) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, detail });
    };
    const fail = (detail) => {
      finish(false, detail);
      socket?.close();
    };
    const timer = setTimeout(() => fail(`timed out while ${step}`), CELL_TIMEOUT_MS);
    try {
      socket = new WebSocketClass(url);
    } catch (error) {
      finish(false, `could not connect: ${error.message}`);
      return;
    }
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      step = "echoing text";
      socket.send(TEXT);
    };
    socket.onmessage = (event) => {
      if (step === "echoing text") {
        if (event.data !== TEXT) return fail(`the text came back as ${describe(event.data)}`);
        step = "echoing binary";
        socket.send(BINARY);
      } else if (step === "echoing binary") {
        const bytes = bytesOf(event.data);
        if (bytes === undefined || !sameBytes(bytes, BINARY)) {
          return fail(`the binary came back as ${describe(event.data)}`);
        }
        step = "closing";
        socket.close(1000, "done");
      } else {
        fail(`a message came while ${step}`);
      }
    };
    socket.onclose = (event) => {
      if (step !== "closing") return finish(false, `closed with ${event.code} while ${step}`);
      if (event.code !== 1000 || !event.wasClean) {
        return finish(false, `closed with ${event.code}${event.wasClean ? "" : ", not cleanly"}`);
      }
      finish(true, "text and 100 KiB binary echoed, closed 1000");
    };
    socket.onerror = () => {};
  });
}

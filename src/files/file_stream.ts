/**
 * A response body read from an open file in fixed-size chunks, never whole.
 * @module
 */

/**
 * The slice of `node:fs/promises` `FileHandle` that {@link fileStream} uses.
 */
export interface ReadableFile {
  /** Reads up to `length` bytes at `position` into `buffer` from `offset`. */
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * Streams `length` bytes of `file` from `position`, one read of at most `chunkBytes` per
 * pull, and takes ownership of the file.
 *
 * The stream pulls only when its reader wants more (one chunk is read ahead), so memory
 * stays near `chunkBytes` whatever the file size. The file is closed exactly once: after
 * the last byte, on a read error (which errors the stream), or when the stream is
 * cancelled. A file that ends before `length` bytes errors the stream.
 *
 * @param file An open file; the stream closes it.
 * @param position Offset of the first byte to send.
 * @param length Number of bytes to send.
 * @param chunkBytes Largest chunk read at a time.
 * @returns A stream of the bytes.
 *
 * @example Stream a whole file into a response
 * ```ts
 * import { open } from "node:fs/promises";
 * import { fileStream } from "./file_stream.ts";
 * const handle = await open("README.md");
 * const { size } = await handle.stat();
 * const response = new Response(fileStream(handle, 0, size, 65_536));
 * await response.text();
 * ```
 */
export function fileStream(
  file: ReadableFile,
  position: number,
  length: number,
  chunkBytes: number,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let remaining = length;
  let closing: Promise<void> | undefined;
  const release = () => closing ??= file.close();
  return new ReadableStream({
    async pull(controller) {
      try {
        if (remaining > 0) {
          const chunk = new Uint8Array(Math.min(chunkBytes, remaining));
          const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
          if (bytesRead === 0) {
            throw new Error("Cannot stream the file: it ended early (truncated while sent?)");
          }
          position += bytesRead;
          remaining -= bytesRead;
          controller.enqueue(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
        }
        if (remaining === 0) {
          await release();
          controller.close();
        }
      } catch (error) {
        await release().catch(() => {});
        controller.error(error);
      }
    },
    cancel() {
      return release();
    },
  });
}

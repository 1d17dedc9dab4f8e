/**
 * Which bytes of which file a {@link files} response body streams, for a server that
 * can send a file better itself.
 * @module
 */

/** The bytes of a file that a response body streams. */
export interface FileSlice {
  /** The file's real path (absolute, symlinks resolved), checked to lie inside the root. */
  readonly path: string;
  /** Offset of the first byte. */
  readonly start: number;
  /** Number of bytes. */
  readonly length: number;
}

const slices = new WeakMap<ReadableStream, FileSlice>();

/**
 * Records that `body` streams `slice`, so that a server adapter may send the file with
 * its own file body instead (see {@link fileSliceOf}).
 *
 * @param body A stream of exactly the slice's bytes.
 * @param slice The file and range it streams.
 * @returns `body`.
 */
export function tagFileSlice<T extends ReadableStream>(body: T, slice: FileSlice): T {
  slices.set(body, slice);
  return body;
}

/**
 * The file slice a response body streams, when it came from {@link files} (directly or
 * passed on as the body of another `Response`) and nothing has read it yet; else
 * `undefined`.
 *
 * A server that answers with its own file body (Bun's `Bun.file(path).slice()`, which
 * `Bun.serve` sends with `Content-Length`) cancels `body`, which closes the file.
 *
 * @param body A response body.
 * @returns Its file and range, or `undefined`.
 *
 * @example Swap a files() body for a server's own file body
 * ```ts
 * import { fileSliceOf } from "./file_slice.ts";
 * import { files } from "./files.ts";
 * const response = await files(".")(new Request("http://localhost/README.md"));
 * const slice = response.body === null ? undefined : fileSliceOf(response.body);
 * if (slice !== undefined) await response.body!.cancel();
 * ```
 */
export function fileSliceOf(body: ReadableStream): FileSlice | undefined {
  return body.locked ? undefined : slices.get(body);
}

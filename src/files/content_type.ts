/**
 * The `Content-Type` of a served file, looked up by its extension in a built-in table.
 * @module
 */

const TYPES: ReadonlyMap<string, string> = new Map(Object.entries({
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  cjs: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  xml: "application/xml",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  bmp: "image/bmp",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
}));

/** The type sent for a file whose extension is not in the table. */
const FALLBACK = "application/octet-stream";

/**
 * Returns the `Content-Type` for a file path or name, from its extension (case-insensitive).
 *
 * Only the last path segment counts, and a name whose only dot is its first character
 * (`.env`) has no extension. Unknown extensions get `application/octet-stream`.
 *
 * @param path A file path or name, with `/` or `\` separators.
 * @returns The media type, with `charset=utf-8` for text types.
 *
 * @example Look up a few types
 * ```ts
 * import { contentType } from "./content_type.ts";
 * contentType("app/main.JS"); // "text/javascript; charset=utf-8"
 * contentType("logo.svg"); // "image/svg+xml"
 * contentType("data.bin"); // "application/octet-stream"
 * ```
 */
export function contentType(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return FALLBACK;
  return TYPES.get(name.slice(dot + 1).toLowerCase()) ?? FALLBACK;
}

/**
 * The `Sec-WebSocket-Extensions` header (RFC 6455 §9.1): offers parsed into names and
 * parameters, and an answer formatted back.
 * @module
 */

import { HandshakeError } from "./errors.ts";

/** One parameter of an extension: `name` or `name=value`. */
export interface ExtensionParameter {
  /** The parameter's name, as sent. */
  name: string;
  /** Its value with any quoting removed, or `undefined` for a parameter with none. */
  value: string | undefined;
}

/** One extension in a `Sec-WebSocket-Extensions` header, with its parameters in order. */
export interface Extension {
  /** The extension's token, as sent (for example `permessage-deflate`). */
  name: string;
  /** Its parameters in the order sent, duplicates kept (the extension judges them). */
  params: ExtensionParameter[];
}

/** RFC 7230 `tchar`: the characters of a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `text` is an RFC 7230 token. */
function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/**
 * Reads one header value: a token or, for parameter values, a quoted string whose
 * content must itself be a token (RFC 6455 §9.1).
 */
class HeaderReader {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  get done(): boolean {
    return this.#at >= this.#text.length;
  }

  /** The next character, or `""` at the end. */
  peek(): string {
    return this.#text[this.#at] ?? "";
  }

  skip(): void {
    this.#at++;
  }

  /** Skips optional whitespace (spaces and tabs). */
  skipSpace(): void {
    while (this.peek() === " " || this.peek() === "\t") this.#at++;
  }

  /** Reads a token. */
  token(what: string): string {
    const start = this.#at;
    while (this.#at < this.#text.length && isToken(this.#text[this.#at])) this.#at++;
    if (this.#at === start) throw invalid(`expected ${what} at offset ${start}`);
    return this.#text.slice(start, this.#at);
  }

  /** Reads a token or a quoted string holding one. */
  value(): string {
    if (this.peek() !== '"') return this.token("a parameter value");
    const start = this.#at++;
    let value = "";
    while (true) {
      const char = this.#text[this.#at++];
      if (char === undefined) throw invalid(`unterminated quoted string at offset ${start}`);
      if (char === '"') break;
      if (char === "\\") {
        const escaped = this.#text[this.#at++];
        if (escaped === undefined) throw invalid(`unterminated quoted string at offset ${start}`);
        value += escaped;
      } else {
        value += char;
      }
    }
    if (!isToken(value)) throw invalid(`quoted value at offset ${start} is not a token`);
    return value;
  }
}

function invalid(detail: string): HandshakeError {
  return new HandshakeError(400, `Invalid Sec-WebSocket-Extensions header: ${detail}`);
}

/**
 * Parses a `Sec-WebSocket-Extensions` header into the extensions offered, in order.
 *
 * The grammar is RFC 6455 §9.1: a comma-separated list of `token *( ";" param )`, each
 * `param` being `token [ "=" ( token / quoted-string ) ]`, with optional whitespace around
 * the separators and empty list items allowed (RFC 7230 §7). Several headers arrive
 * joined with commas, which is the same list. Parameters are not judged here: duplicates
 * and unknown names are kept for the extension to decline.
 *
 * @param header The header's value; `""` means no offers.
 * @throws {HandshakeError} 400, when the header does not follow the grammar.
 *
 * @example Two offers, the first with parameters
 * ```ts
 * import { parseExtensions } from "./extensions.ts";
 * parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits="10", permessage-deflate');
 * // [
 * //   { name: "permessage-deflate", params: [
 * //     { name: "client_max_window_bits", value: undefined },
 * //     { name: "server_max_window_bits", value: "10" } ] },
 * //   { name: "permessage-deflate", params: [] },
 * // ]
 * ```
 */
export function parseExtensions(header: string): Extension[] {
  const reader = new HeaderReader(header);
  const extensions: Extension[] = [];
  while (true) {
    reader.skipSpace();
    if (reader.done) return extensions;
    if (reader.peek() === ",") {
      reader.skip();
      continue;
    }
    const extension: Extension = { name: reader.token("an extension name"), params: [] };
    reader.skipSpace();
    while (reader.peek() === ";") {
      reader.skip();
      reader.skipSpace();
      const name = reader.token("a parameter name");
      reader.skipSpace();
      let value: string | undefined;
      if (reader.peek() === "=") {
        reader.skip();
        reader.skipSpace();
        value = reader.value();
        reader.skipSpace();
      }
      extension.params.push({ name, value });
    }
    extensions.push(extension);
    if (!reader.done && reader.peek() !== ",") {
      throw invalid(`unexpected ${JSON.stringify(reader.peek())} after ${extension.name}`);
    }
  }
}

/**
 * Formats one extension for a `Sec-WebSocket-Extensions` answer.
 *
 * @example
 * ```ts
 * import { formatExtension } from "./extensions.ts";
 * formatExtension({
 *   name: "permessage-deflate",
 *   params: [{ name: "client_max_window_bits", value: "10" }],
 * }); // "permessage-deflate; client_max_window_bits=10"
 * ```
 */
export function formatExtension(extension: Extension): string {
  let text = extension.name;
  for (const { name, value } of extension.params) {
    text += value === undefined ? `; ${name}` : `; ${name}=${value}`;
  }
  return text;
}

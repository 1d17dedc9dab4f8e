/**
 * permessage-deflate negotiation, server side (RFC 7692 §5, §7.1): picks the first
 * acceptable offer and answers it.
 * @module
 */

import type { DeflateOptions } from "./deflate_options.ts";
import { type ExtensionParameter, formatExtension, parseExtensions } from "./extensions.ts";

/** The extension's registered name. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** The largest LZ77 window, in bits, and the one used when none was negotiated. */
const MAX_WINDOW_BITS = 15;

/** What server and client agreed on for permessage-deflate (RFC 7692 §7.1). */
export interface PerMessageDeflateAgreement {
  /** Whether the server compresses each message with an empty window. */
  readonly serverNoContextTakeover: boolean;
  /** Whether the client compresses each message with an empty window. */
  readonly clientNoContextTakeover: boolean;
  /** The largest window the server compresses with, in bits (8 to 15). */
  readonly serverMaxWindowBits: number;
  /** The largest window the client compresses with, in bits (8 to 15). */
  readonly clientMaxWindowBits: number;
  /** The `Sec-WebSocket-Extensions` answer to send in the 101 response. */
  readonly response: string;
}

/** A window-bits value as RFC 7692 §7.1.2 allows it: 8 to 15, no leading zero or sign. */
const WINDOW_BITS = /^(?:[89]|1[0-5])$/;

/** The parameters of one offer, or `undefined` when the offer is invalid (§7.1). */
interface Offer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true` when offered without a value: the client can limit its window. */
  clientMaxWindowBits: number | true | undefined;
}

/**
 * Reads an offer's parameters; `undefined` for one the server must decline (RFC 7692
 * §5): an unknown parameter, a duplicate, or an invalid value.
 */
function readOffer(params: readonly ExtensionParameter[]): Offer | undefined {
  const offer: Offer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return undefined;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== undefined) return undefined;
        offer[
          name === "server_no_context_takeover"
            ? "serverNoContextTakeover"
            : "clientNoContextTakeover"
        ] = true;
        break;
      case "server_max_window_bits":
        if (value === undefined || !WINDOW_BITS.test(value)) return undefined;
        offer.serverMaxWindowBits = Number(value);
        break;
      case "client_max_window_bits":
        if (value !== undefined && !WINDOW_BITS.test(value)) return undefined;
        offer.clientMaxWindowBits = value === undefined ? true : Number(value);
        break;
      default:
        return undefined;
    }
  }
  return offer;
}

/** Answers one valid offer within the server's options, or declines it. */
function answer(
  offer: Offer,
  options: Readonly<DeflateOptions>,
): PerMessageDeflateAgreement | undefined {
  // A client that cannot limit its window must not be asked to (§7.1.2.2): decline when
  // the server needs it smaller than the maximum.
  if (offer.clientMaxWindowBits === undefined && options.clientMaxWindowBits < MAX_WINDOW_BITS) {
    return undefined;
  }
  const serverNoContextTakeover = offer.serverNoContextTakeover ||
    options.serverNoContextTakeover;
  const clientNoContextTakeover = offer.clientNoContextTakeover ||
    options.clientNoContextTakeover;
  const serverMaxWindowBits = Math.min(
    offer.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    options.serverMaxWindowBits,
  );
  const clientOffered = offer.clientMaxWindowBits === true
    ? MAX_WINDOW_BITS
    : offer.clientMaxWindowBits ?? MAX_WINDOW_BITS;
  const clientMaxWindowBits = Math.min(clientOffered, options.clientMaxWindowBits);
  const params: ExtensionParameter[] = [];
  if (serverNoContextTakeover) {
    params.push({ name: "server_no_context_takeover", value: undefined });
  }
  if (clientNoContextTakeover) {
    params.push({ name: "client_no_context_takeover", value: undefined });
  }
  // Accepting a server_max_window_bits offer means answering it (§7.1.2.1); the server may
  // also limit its own window unasked.
  if (offer.serverMaxWindowBits !== undefined || serverMaxWindowBits < MAX_WINDOW_BITS) {
    params.push({ name: "server_max_window_bits", value: String(serverMaxWindowBits) });
  }
  // client_max_window_bits may be answered only when offered, and only with a value
  // (§7.1.2.2); an offer without one leaves the client at 15 unless the server limits it.
  if (typeof offer.clientMaxWindowBits === "number" || clientMaxWindowBits < MAX_WINDOW_BITS) {
    params.push({ name: "client_max_window_bits", value: String(clientMaxWindowBits) });
  }
  return {
    serverNoContextTakeover,
    clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
    response: formatExtension({ name: PERMESSAGE_DEFLATE, params }),
  };
}

/**
 * Negotiates permessage-deflate from a client's `Sec-WebSocket-Extensions` header
 * (RFC 7692 §7.1): the first offer the server can accept wins.
 *
 * Offers of other extensions are ignored. A permessage-deflate offer with an unknown or
 * duplicated parameter or an invalid value is declined, as §5 requires, and so is one
 * the options cannot meet (a client that cannot limit its window when
 * `clientMaxWindowBits` is below 15); the next offer is then tried. A client's
 * `server_no_context_takeover` and smaller windows are always granted. The answer
 * carries `server_no_context_takeover` and `client_no_context_takeover` when either side
 * asked, and each `*_max_window_bits` that was offered with a value or that the server
 * lowers.
 *
 * @param header The request's `Sec-WebSocket-Extensions` header (`""` when absent).
 * @param options The route's resolved options.
 * @returns The agreement, or `undefined` when no offer is acceptable: the connection
 *   then runs without compression.
 * @throws {HandshakeError} 400, when the header does not follow RFC 6455 §9.1's grammar,
 *   as `ws` and Python's `websockets` answer.
 *
 * @example A browser's offer
 * ```ts
 * import { DEFAULT_DEFLATE_OPTIONS } from "./deflate_options.ts";
 * import { negotiatePerMessageDeflate } from "./permessage_deflate.ts";
 * negotiatePerMessageDeflate(
 *   "permessage-deflate; client_max_window_bits",
 *   { ...DEFAULT_DEFLATE_OPTIONS, clientMaxWindowBits: 12 },
 * )?.response; // "permessage-deflate; client_max_window_bits=12"
 * ```
 */
export function negotiatePerMessageDeflate(
  header: string,
  options: Readonly<DeflateOptions>,
): PerMessageDeflateAgreement | undefined {
  for (const extension of parseExtensions(header)) {
    if (extension.name !== PERMESSAGE_DEFLATE) continue;
    const offer = readOffer(extension.params);
    const agreement = offer === undefined ? undefined : answer(offer, options);
    if (agreement !== undefined) return agreement;
  }
  return undefined;
}

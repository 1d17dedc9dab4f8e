/**
 * `serve()`'s `tls` option as each runtime's server takes it: PEM text as strings.
 * @module
 */

import type { TlsOptions } from "./server.ts";

/** A PEM text: a string, or its bytes. */
type Pem = string | Uint8Array;

/** A PEM given as a string or its bytes, as a string (PEM is ASCII). */
export function pemText(pem: Pem): string {
  return typeof pem === "string" ? pem : new TextDecoder().decode(pem);
}

/** The `tls` option with every PEM as a string, and `ca` as a list. */
export interface TlsText {
  cert: string;
  key: string;
  ca: string[];
  passphrase: string | undefined;
}

/** The `tls` option with every PEM as a string, and `ca` as a list (maybe empty). */
export function tlsText(tls: TlsOptions): TlsText {
  const ca = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca as Pem];
  return {
    cert: pemText(tls.cert),
    key: pemText(tls.key),
    ca: ca.map(pemText),
    passphrase: tls.passphrase,
  };
}

/** The `tls` option as `node:https`'s `createServer()` takes it. */
export function nodeTlsOptions(
  tls: TlsOptions,
): { cert: string; key: string; ca?: string[]; passphrase?: string } {
  const { cert, key, ca, passphrase } = tlsText(tls);
  return {
    cert,
    key,
    ...(ca.length > 0 ? { ca } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
  };
}

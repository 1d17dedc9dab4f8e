/**
 * A throwaway TLS certificate for the tests, made at run time with `openssl` (no key is
 * ever committed): self-signed for 127.0.0.1 and localhost, so that it is its own CA.
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { unavailable } from "./required.ts";

/** A certificate and its key, as PEM text and as files (the CA file is the certificate). */
export interface Certificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The unencrypted private key, PEM. */
  readonly key: string;
  /** The same key encrypted with {@linkcode Certificate.passphrase}, PEM. */
  readonly encryptedKey: string;
  /** The passphrase of `encryptedKey`. */
  readonly passphrase: string;
  /** A file holding the certificate, for clients that trust a CA file. */
  readonly caFile: string;
}

const OPENSSL = "openssl";

/** Why the TLS tests cannot run here, or `undefined`. */
export const opensslMissing: string | undefined = await unavailable({
  command: [OPENSSL, "version"],
  missing: "openssl is not installed (apt-get install openssl)",
});

let made: Certificate | undefined;

/**
 * The certificate of this test process, made on first use in a temporary directory that
 * is removed when the process exits.
 */
export function certificate(): Certificate {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), "wsport-tls-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => join(dir, name);
  const passphrase = "correct horse";
  const run = (args: string[]) => execFileSync(OPENSSL, args, { stdio: "pipe", timeout: 20_000 });
  run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    file("key.pem"),
    "-out",
    file("cert.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  run([
    "pkey",
    "-in",
    file("key.pem"),
    "-aes256",
    "-passout",
    `pass:${passphrase}`,
    "-out",
    file("encrypted.pem"),
  ]);
  made = {
    cert: readFileSync(file("cert.pem"), "utf8"),
    key: readFileSync(file("key.pem"), "utf8"),
    encryptedKey: readFileSync(file("encrypted.pem"), "utf8"),
    passphrase,
    caFile: file("cert.pem"),
  };
  return made;
}

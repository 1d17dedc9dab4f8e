import { test } from "node:test";
import assert from "node:assert/strict";
import { sha1 } from "../../src/core/sha1.ts";
import { randomBytes, seededRandom, toHex, utf8 } from "../helpers/frames.ts";

const digestHex = (bytes: Uint8Array) => toHex(bytes).replaceAll(" ", "");

test("sha1() gives the FIPS 180 example digests", () => {
  assert.equal(digestHex(sha1(utf8("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(digestHex(sha1(utf8(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.equal(
    digestHex(sha1(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  );
  assert.equal(
    digestHex(sha1(new Uint8Array(1_000_000).fill(0x61))),
    "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
  );
});

test("sha1() equals crypto.subtle's SHA-1 on every length around the block boundaries", async () => {
  const random = seededRandom(0x5a1);
  for (let length = 0; length <= 200; length++) {
    const message = new Uint8Array(randomBytes(random, length));
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", message));
    assert.deepEqual(sha1(message), expected, `length ${length}`);
  }
});

test("sha1() leaves its input unchanged", () => {
  const message = utf8("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const copy = message.slice();
  sha1(message);
  assert.deepEqual(message, copy);
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeUtf8, utf8ByteLength, Utf8Validator } from "../../src/core/utf8.ts";
import { hex, utf8 } from "../helpers/frames.ts";

/** Validates `bytes` whole: push, then end. */
function validates(bytes: Uint8Array): boolean {
  const validator = new Utf8Validator();
  return validator.push(bytes) && validator.end();
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/** The oracle: whether the platform's fatal decoder takes `bytes`. */
function decodes(bytes: Uint8Array): boolean {
  try {
    fatalDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The index of the byte at which pushing `bytes` one at a time first returns false. */
function failsAt(bytes: Uint8Array): number {
  const validator = new Utf8Validator();
  for (let i = 0; i < bytes.length; i++) {
    if (!validator.push(bytes.subarray(i, i + 1))) return i;
  }
  return -1;
}

const VALID = [
  ["ASCII", "68 69"],
  ["NUL", "00"],
  ["U+007F", "7f"],
  ["U+0080", "c2 80"],
  ["U+07FF", "df bf"],
  ["U+0800", "e0 a0 80"],
  ["U+D7FF", "ed 9f bf"],
  ["U+E000", "ee 80 80"],
  ["U+FFFD", "ef bf bd"],
  ["U+FFFF", "ef bf bf"],
  ["U+10000", "f0 90 80 80"],
  ["U+10FFFF", "f4 8f bf bf"],
  ["BOM", "ef bb bf"],
  ["κόσμε", "ce ba e1 bd b9 cf 83 ce bc ce b5"],
];

/** Invalid sequences and the index of the first byte after which no completion is valid. */
const INVALID: [string, string, number][] = [
  ["overlong NUL in 2 bytes", "c0 80", 0],
  ["overlong '/' in 2 bytes", "c1 af", 0],
  ["overlong NUL in 3 bytes", "e0 80 80", 1],
  ["overlong U+07FF in 3 bytes", "e0 9f bf", 1],
  ["overlong NUL in 4 bytes", "f0 80 80 80", 1],
  ["overlong U+FFFF in 4 bytes", "f0 8f bf bf", 1],
  ["first high surrogate", "ed a0 80", 1],
  ["last low surrogate", "ed bf bf", 1],
  ["surrogate pair in CESU-8", "ed a0 bd ed b2 a9", 1],
  ["U+110000", "f4 90 80 80", 1],
  ["F5 lead byte", "f5 80 80 80", 0],
  ["F7 lead byte", "f7 bf bf bf", 0],
  ["F8 lead byte", "f8 88 80 80 80", 0],
  ["FE", "fe", 0],
  ["FF", "ff", 0],
  ["lone continuation 80", "80", 0],
  ["lone continuation BF", "bf", 0],
  ["continuation after ASCII", "61 80", 1],
  ["two-byte lead then ASCII", "c3 28", 1],
  ["three-byte lead then ASCII", "e2 28 a1", 1],
  ["four-byte lead cut by ASCII", "f0 90 28 bc", 2],
  ["extra continuation", "c3 a9 a9", 2],
];

const TRUNCATED = [
  ["2-byte sequence missing 1", "c3"],
  ["3-byte sequence missing 1", "e2 82"],
  ["3-byte sequence missing 2", "e2"],
  ["4-byte sequence missing 1", "f0 9f 98"],
  ["4-byte sequence missing 3", "f4"],
  ["valid text then a cut sequence", "68 69 f0 9f"],
];

describe("RFC 6455 §8.1 validating UTF-8 incrementally", () => {
  test("Utf8Validator accepts valid 1- to 4-byte sequences, U+FFFF and U+10FFFF", () => {
    for (const [name, bytes] of VALID) assert.equal(validates(hex(bytes)), true, name);
    assert.equal(validates(utf8("héllo €uro 😀 \u{10ffff}")), true);
    assert.equal(validates(new Uint8Array(0)), true);
  });

  test("Utf8Validator accepts every valid sequence fed one byte at a time", () => {
    for (const [name, bytes] of VALID) {
      assert.equal(failsAt(hex(bytes)), -1, name);
    }
  });

  test("Utf8Validator rejects overlongs, surrogates, code points above U+10FFFF and stray bytes", () => {
    for (const [name, bytes] of INVALID) assert.equal(validates(hex(bytes)), false, name);
  });

  test("Utf8Validator fails at the first impossible byte", () => {
    for (const [name, bytes, at] of INVALID) assert.equal(failsAt(hex(bytes)), at, name);
  });

  test("Utf8Validator.push() returns false at once for an invalid prefix, before the sequence ends", () => {
    const validator = new Utf8Validator();
    assert.equal(validator.push(hex("68 69 ed")), true, "ED may start U+D000-U+D7FF");
    assert.equal(validator.push(hex("a0")), false, "ED A0 can only be a surrogate");
    const overlong = new Utf8Validator();
    assert.equal(overlong.push(hex("f0")), true);
    assert.equal(overlong.push(hex("80")), false);
    const tooHigh = new Utf8Validator();
    assert.equal(tooHigh.push(hex("f4")), true);
    assert.equal(tooHigh.push(hex("90")), false);
  });

  test("Utf8Validator stays failed after a rejection, even for valid input", () => {
    const validator = new Utf8Validator();
    assert.equal(validator.push(hex("ff")), false);
    assert.equal(validator.push(utf8("fine")), false);
    assert.equal(validator.end(), false);
  });

  test("Utf8Validator.end() is false for a sequence truncated at the end", () => {
    for (const [name, bytes] of TRUNCATED) {
      const validator = new Utf8Validator();
      assert.equal(validator.push(hex(bytes)), true, `${name}: a valid prefix`);
      assert.equal(validator.end(), false, name);
    }
  });

  test("Utf8Validator accepts a multi-byte character split across pushes at every point", () => {
    const bytes = utf8("a€😀é");
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let second = cut; second <= bytes.length; second++) {
        const validator = new Utf8Validator();
        assert.equal(validator.push(bytes.subarray(0, cut)), true);
        assert.equal(validator.push(bytes.subarray(cut, second)), true);
        assert.equal(validator.push(bytes.subarray(second)), true);
        assert.equal(validator.end(), true, `cut at ${cut} and ${second}`);
      }
    }
  });

  test("Utf8Validator.end() readies it for a new input", () => {
    const validator = new Utf8Validator();
    validator.push(hex("e2 82"));
    assert.equal(validator.end(), false);
    assert.equal(validator.push(utf8("ok")), true);
    assert.equal(validator.end(), true);
    validator.push(hex("ff"));
    assert.equal(validator.end(), false);
    assert.equal(validates(utf8("ok")), true);
    assert.equal(validator.push(utf8("again")) && validator.end(), true);
  });

  test("Utf8Validator agrees with a fatal TextDecoder on every 1- and 2-byte input", () => {
    for (let a = 0; a < 256; a++) {
      assert.equal(validates(Uint8Array.of(a)), decodes(Uint8Array.of(a)), `${a}`);
      for (let b = 0; b < 256; b++) {
        const bytes = Uint8Array.of(a, b);
        assert.equal(validates(bytes), decodes(bytes), `${a} ${b}`);
      }
    }
  });

  test("Utf8Validator agrees with a fatal TextDecoder on 3- and 4-byte inputs at range edges", () => {
    const edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff];
    for (let a = 0xc0; a <= 0xff; a++) {
      for (const b of edges) {
        for (const c of edges) {
          const bytes = Uint8Array.of(a, b, c);
          assert.equal(validates(bytes), decodes(bytes), `${a} ${b} ${c}`);
          if (a < 0xf0) continue;
          for (const d of edges) {
            const four = Uint8Array.of(a, b, c, d);
            assert.equal(validates(four), decodes(four), `${a} ${b} ${c} ${d}`);
          }
        }
      }
    }
  });
});

describe("RFC 6455 §5.6 text messages as UTF-8", () => {
  test("decodeUtf8() decodes valid UTF-8 and keeps a byte order mark", () => {
    assert.equal(decodeUtf8(hex("68 69")), "hi");
    assert.equal(decodeUtf8(hex("ef bb bf 68 69")), "\ufeffhi");
    assert.equal(decodeUtf8(hex("f4 8f bf bf")), "\u{10ffff}");
    assert.equal(decodeUtf8(new Uint8Array(0)), "");
  });

  test("decodeUtf8() returns undefined for invalid or truncated UTF-8", () => {
    for (const [name, bytes] of INVALID) assert.equal(decodeUtf8(hex(bytes)), undefined, name);
    for (const [name, bytes] of TRUNCATED) assert.equal(decodeUtf8(hex(bytes)), undefined, name);
  });

  test("utf8ByteLength() counts what TextEncoder writes, lone surrogates included", () => {
    const encoder = new TextEncoder();
    const samples = [
      "",
      "ascii only",
      "h\u00e9llo",
      "\u07ff\u0800\uffff",
      "\u{1f600} and \u{10ffff}",
      "\ud800 lone high, lone low \udc00",
      "\udc00\ud800 reversed pair",
      "ends on a high surrogate \ud83d",
    ];
    for (const sample of samples) {
      assert.equal(utf8ByteLength(sample), encoder.encode(sample).length, JSON.stringify(sample));
    }
    for (let unit = 0; unit < 0x10000; unit++) {
      const text = String.fromCharCode(unit);
      assert.equal(utf8ByteLength(text), encoder.encode(text).length, `U+${unit.toString(16)}`);
    }
  });

  test("utf8ByteLength() counts long texts, ASCII and not, across its 4096-byte chunks", () => {
    const encoder = new TextEncoder();
    const ascii = (length: number) => "x".repeat(length);
    const samples: [string, string][] = [
      ["65 ASCII", ascii(65)],
      ["4096 ASCII", ascii(4096)],
      ["3 chunks and a bit", ascii(3 * 4096 + 7)],
      ["é in the first chunk", ascii(100) + "é" + ascii(5000)],
      ["😀 in a later chunk", ascii(9000) + "😀" + ascii(10)],
      ["a pair across a chunk's end", ascii(4095) + "😀" + ascii(4095)],
      ["3-byte unit at a chunk's end", ascii(4095) + "\u20ac"],
      ["lone surrogates after ASCII", ascii(5000) + "\ud800" + ascii(3) + "\udc00"],
      ["ends on a high surrogate", ascii(4096) + "\ud83d"],
      ["all two-byte", "漢字".repeat(3000)],
      ["all Latin-1", "é".repeat(5000)],
    ];
    for (const [name, text] of samples) {
      assert.equal(utf8ByteLength(text), encoder.encode(text).length, name);
    }
  });
});

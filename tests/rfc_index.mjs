#!/usr/bin/env node
// Writes tests/RFC_INDEX.md: for each section of RFC 6455 and RFC 7692, the core tests
// that check it, found by file and by words in the test's name (the table below).
//
// Usage: node tests/rfc_index.mjs           # rewrites tests/RFC_INDEX.md
//        node tests/rfc_index.mjs --check   # exits 1 when it is stale, or a test of
//                                           # tests/core is in no section, or two core
//                                           # files share a describe() title
//
// A test may stand under several sections. A test that checks library plumbing rather
// than an RFC rule (option checking, buffers, the sans-I/O scan) goes under "Not an RFC
// rule", so that every test of tests/core has a place and a new one cannot go unlisted.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const CORE = join(root, "tests", "core");
const INDEX = join(root, "tests", "RFC_INDEX.md");

const ALL = /./;

/**
 * Sections in RFC order; each rule is [file (without `_test.ts`), a pattern on the
 * test's name]. A test is listed under every section one of whose rules it matches.
 */
const SECTIONS = [
  {
    rfc: "RFC 6455",
    title: "§1.3, §4.2.1 Opening handshake: reading the client's request",
    rules: [
      ["handshake", /checkHandshake\(\) (answers|accepts|allows|finds)|§1\.3|errors turn/],
      ["constants", /GUID/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§4.2.2 Opening handshake: the server's response (accept key, subprotocol)",
    rules: [
      ["handshake", /computeAccept|acceptHeaders|subprotocol|chooseProtocol|headerList/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.2 Base framing: header, lengths, opcodes",
    rules: [
      [
        "frame",
        /length|opcode|header|FrameParser (parses|reports|passes|calls|returns)|push\(\)|bufferedBytes|round-trips|first byte|buildFrame\(\) copies|mixed stream/,
      ],
      ["connection", /length|reserved opcodes|stops reading|fed whole|bufferedInputBytes/],
      ["output", /fin and RSV|joined/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.3 Client-to-server masking",
    rules: [
      ["mask", ALL],
      ["frame", /masked|unmasked/],
      ["connection", /unmasked client frame|masked server frame|§5\.7's masked/],
      ["output", /mask/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.4 Fragmentation",
    rules: [
      ["frame", /fragmented/],
      ["connection", /fragment|continuation frame/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.5 Control frames (at most 125 bytes, never fragmented)",
    rules: [
      ["frame", /control frame|fragmented control|ping|pong/],
      ["connection", /ping|pong/],
      ["constants", /control|MAX_CONTROL/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.5.1 Close frames: code and reason",
    rules: [
      ["close", ALL],
      ["connection", /Close|close\(\)/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.5.2, §5.5.3 Ping and Pong; keeping a connection alive",
    rules: [
      ["connection", /ping|pong|heartbeat|idle/],
      ["liveness", /heartbeat|ping|idle|interval|received|nextDeadline|Liveness with/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.6, §8.1 Data frames: text must be UTF-8, binary is anything",
    rules: [
      ["utf8", ALL],
      ["connection", /UTF-8|text message|binary|Hello as a text|multi-byte character|messages/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.7 The RFC's example frames",
    rules: [
      ["frame", /§5\.7/],
      ["mask", /§5\.7/],
      ["connection", /§5\.7/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§5.8 Extensibility: RSV bits without an extension",
    rules: [
      ["frame", /RSV/],
      ["connection", /RSV/],
      ["connection_compression", /without compression|RSV2/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§7.1, §7.2 Closing the connection: the handshake, 1006, failing",
    rules: [
      [
        "connection",
        /Close|close\(\)|close handshake|receiveEof|fail\(\)|after the close|closes|Connection pair|closing|failure/,
      ],
      ["liveness", /closeStarted|closing/],
      ["close_record", ALL],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§7.4 Status codes",
    rules: [
      ["close", /code/],
      ["constants", /CloseCode/],
      ["connection", /close code|valid code|1005|1006/],
      ["errors", /close code/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§9.1 Negotiating extensions: the Sec-WebSocket-Extensions grammar",
    rules: [
      ["extensions", ALL],
      ["handshake", /extension/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§10.4 Implementation-specific limits (message and frame sizes)",
    rules: [
      ["connection", /maxMessageBytes|maxFrameBytes/],
      ["frame", /maxFrameBytes|2\^53/],
      ["connection_compression", /maxMessageBytes|Message too big/],
      ["limits", /DEFAULT_LIMITS/],
    ],
  },
  {
    rfc: "RFC 6455",
    title: "§11.8 Opcode registry",
    rules: [["constants", /Opcode/]],
  },
  {
    rfc: "RFC 7692",
    title: "§5, §7.1 Negotiating permessage-deflate and its parameters",
    rules: [
      ["permessage_deflate", ALL],
      ["extensions", /§7\.1\.3/],
    ],
  },
  {
    rfc: "RFC 7692",
    title: "§6 Framing: RSV1 marks a compressed message",
    rules: [["connection_compression", /RSV|compressed message|compressed bytes/]],
  },
  {
    rfc: "RFC 7692",
    title: "§6.1, §6.2 Compressing and decompressing messages, in order",
    rules: [[
      "connection_compression",
      /decompressed\(\)|sendCompressed|uncompressed|fragmented compressed/,
    ]],
  },
  {
    rfc: "RFC 7692",
    title: "§7.2.3.1 The RFC's compressed example",
    rules: [["connection_compression", /§7\.2\.3\.1/]],
  },
  {
    rfc: "",
    title: "Not an RFC rule: options, buffers, errors, the sans-I/O boundary",
    rules: [
      ["deflate_options", ALL],
      ["errors", ALL],
      ["limits", /resolveLimits|frozen/],
      ["options", ALL],
      ["output", /OutputBuffer/],
      ["sans_io", ALL],
      ["frame", /concat\(\)|frameHeaderSize|writeFrameHeader|copies a payload/],
      ["connection", /resolves its limits|starts its heartbeat|send\(\)|ping\(\) over|lets go/],
      ["limiter", ALL],
      ["retained_bytes", ALL],
      ["liveness", /closeStarted\(\) keeps/],
    ],
  },
];

/** Test names of one file, in order, from `test("...")` and `test(`...`)` calls. */
function testNames(file) {
  const text = readFileSync(join(CORE, file), "utf8");
  const names = [];
  for (const match of text.matchAll(/^\s*(?:test|it)\(\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)/gm)) {
    names.push(match[1] ?? match[2]);
  }
  return names;
}

/**
 * describe() titles that more than one core file uses. Deno's report gives a describe()'s
 * tests without their file, so with a shared title tests/run.mjs cannot tell which file a
 * test (or its failure) is in: each title must be unique.
 */
function sharedDescribeTitles() {
  const files = new Map();
  for (const file of readdirSync(CORE).filter((name) => name.endsWith("_test.ts"))) {
    const text = readFileSync(join(CORE, file), "utf8");
    for (const [, title] of text.matchAll(/^describe\(\s*"((?:[^"\\]|\\.)*)"/gm)) {
      files.set(title, [...(files.get(title) ?? []), file]);
    }
  }
  return [...files].filter(([, where]) => where.length > 1);
}

function build() {
  const files = readdirSync(CORE).filter((name) => name.endsWith("_test.ts")).sort();
  const tests = files.flatMap((file) =>
    testNames(file).map((name) => ({ file, stem: file.slice(0, -"_test.ts".length), name }))
  );
  const placed = new Set();
  const lines = [
    "# Core tests by RFC section",
    "",
    "Which test of `tests/core/` checks which section of RFC 6455 (WebSocket) and RFC 7692",
    "(permessage-deflate): <https://www.rfc-editor.org/rfc/rfc6455>,",
    "<https://www.rfc-editor.org/rfc/rfc7692>. A test may stand under several sections.",
    "",
    "Generated from the table in `tests/rfc_index.mjs`: run `node tests/rfc_index.mjs` after adding a",
    "core test; `node tests/rfc_index.mjs --check` fails when this file is stale or a core test is in no",
    "section. The cross-layer suites check the same sections end to end: `tests/conformance/cases.ts`",
    "names each case by its Autobahn number and RFC section.",
    "",
    "Run one file: `node tests/run.mjs --runtime node core/frame_test.ts`.",
    "",
  ];
  const toc = [];
  const body = [];
  for (const section of SECTIONS) {
    const heading = section.rfc === "" ? section.title : `${section.rfc} ${section.title}`;
    const matched = tests.filter((test) =>
      section.rules.some(([stem, pattern]) => stem === test.stem && pattern.test(test.name))
    );
    toc.push(...wrap("- ", `${heading}: ${matched.length}`));
    body.push(`## ${heading}`, "");
    let file = "";
    for (const test of matched) {
      placed.add(test);
      if (test.file !== file) {
        file = test.file;
        body.push(`- [\`${file}\`](core/${file})`);
      }
      body.push(...wrap("  - ", test.name.replaceAll("|", "\\|").replaceAll("*", "\\*")));
    }
    body.push("");
  }
  const unplaced = tests.filter((test) => !placed.has(test));
  return {
    text: [...lines, ...toc, "", ...body].join("\n").replace(/\n+$/, "\n"),
    unplaced,
  };
}

/**
 * `text` after `prefix`, wrapped at 100 columns as `deno fmt` wraps Markdown, the
 * following lines indented as wide as the prefix.
 */
function wrap(prefix, text) {
  const lines = [];
  let line = prefix;
  for (const word of text.split(" ")) {
    if (line.length > prefix.length && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = " ".repeat(prefix.length) + word;
    } else {
      line += (line.length > prefix.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines;
}

const { text, unplaced } = build();
if (unplaced.length > 0) {
  console.error("Core tests in no section (add a rule to tests/rfc_index.mjs):");
  for (const test of unplaced) console.error(`  ${test.file}: ${test.name}`);
}
const shared = sharedDescribeTitles();
for (const [title, where] of shared) {
  console.error(`describe("${title}") is in ${where.join(", ")}: give each its own title`);
}
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(INDEX, "utf8");
  } catch {
    // Missing: stale.
  }
  if (current !== text) console.error("tests/RFC_INDEX.md is stale: run node tests/rfc_index.mjs");
  process.exit(current === text && unplaced.length === 0 && shared.length === 0 ? 0 : 1);
}
writeFileSync(INDEX, text);
process.exit(unplaced.length === 0 && shared.length === 0 ? 0 : 1);

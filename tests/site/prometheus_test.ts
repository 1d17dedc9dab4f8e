/**
 * `prometheusText()`: what it writes parses back, by the rules of the text exposition
 * format 0.0.4, to the numbers it was given.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prometheusText } from "../../src/site/prometheus.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { RouteCounters, type RouteStats, type SiteStats } from "../../src/site/stats.ts";
import { Echo } from "../helpers/server.ts";

/** One sample: its metric name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** What a parse found: each family's type and help, and every sample. */
interface Exposition {
  readonly types: Map<string, string>;
  readonly help: Map<string, string>;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/**
 * Parses the text format strictly, throwing at the first departure from it: a
 * `# TYPE` before any sample of its family and once only, each family's samples
 * together, label values with only `\\`, `\"` and `\n` escapes, no label set twice,
 * every line ended by a line feed.
 */
function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith("\n"), "the text ends with a line feed");
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment;
      assert.match(name, METRIC_NAME, line);
      if (kind === "TYPE") {
        assert.ok(TYPES.has(rest), `a known type: ${line}`);
        assert.ok(!types.has(name), `one TYPE per family: ${line}`);
        assert.ok(!finished.has(name) && current !== name, `TYPE before samples: ${line}`);
        types.set(name, rest);
      } else {
        assert.ok(!help.has(name), `one HELP per family: ${line}`);
        assert.doesNotMatch(rest.replace(/\\[\\n]/g, ""), /\\/, `HELP escapes: ${line}`);
        help.set(name, rest.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c));
      }
      continue;
    }
    assert.ok(!line.startsWith("#") && line !== "", `a sample line: ${JSON.stringify(line)}`);
    const sample = parseSample(line);
    if (sample.name !== current) {
      if (current !== undefined) finished.add(current);
      assert.ok(!finished.has(sample.name), `the samples of ${sample.name} together`);
      current = sample.name;
    }
    const key = sample.name + JSON.stringify(Object.entries(sample.labels).sort());
    assert.ok(!seen.has(key), `no label set twice: ${line}`);
    seen.add(key);
    samples.push(sample);
  }
  return { types, help, samples };
}

/** Parses `name{a="x",b="y"} value`, reading the label values' escapes. */
function parseSample(line: string): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  assert.ok(name !== undefined, `a metric name: ${line}`);
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === "{") {
    at++;
    while (line[at] !== "}") {
      const label = /^([^=]+)="/.exec(line.slice(at));
      assert.ok(label !== null, `a label: ${line}`);
      assert.match(label[1], LABEL_NAME, line);
      assert.ok(!(label[1] in labels), `a label once: ${line}`);
      at += label[0].length;
      let value = "";
      for (;;) {
        const c = line[at++];
        assert.ok(c !== undefined, `a closed label value: ${line}`);
        if (c === '"') break;
        if (c === "\\") {
          const escaped = line[at++];
          assert.ok(["\\", '"', "n"].includes(escaped), `a known escape: ${line}`);
          value += escaped === "n" ? "\n" : escaped;
        } else value += c;
      }
      labels[label[1]] = value;
      if (line[at] === ",") at++;
      else assert.equal(line[at], "}", line);
    }
    at++;
  }
  const rest = line.slice(at);
  assert.match(rest, /^ (-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|NaN|[+-]Inf)$/, line);
  return { name, labels, value: Number(rest.slice(1)) };
}

/** The value of the one sample named `name` with exactly `labels`. */
function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const matches = exposition.samples.filter((sample) =>
    sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) ===
      JSON.stringify(Object.entries(labels).sort())
  );
  assert.ok(matches.length <= 1);
  return matches[0]?.value;
}

const route = (numbers: Partial<RouteStats>): RouteStats => ({
  ...new RouteCounters().snapshot(),
  ...numbers,
});

test("prometheusText() parses back to every number, labelled by route, status and code", () => {
  const stats: SiteStats = {
    routes: {
      "/chat": route({
        open: 3,
        accepted: 10,
        refused: { 401: 2, 426: 1 },
        messagesIn: 40,
        bytesIn: 1234,
        messagesOut: 80,
        bytesOut: 2 ** 40,
        closeCodes: { 1000: 5, 1006: 2 },
        sendBufferOverflows: 1,
        receiveQueueOverflows: 4,
      }),
      "/feed": route({ open: 1, accepted: 1 }),
    },
    backplane: { status: "up" },
  };
  const exposition = parseExposition(prometheusText(stats));
  const chat = { route: "/chat" };
  const expected: [string, Record<string, string>, number][] = [
    ["wsport_connections_open", chat, 3],
    ["wsport_connections_open", { route: "/feed" }, 1],
    ["wsport_handshakes_accepted_total", chat, 10],
    ["wsport_handshakes_refused_total", { ...chat, status: "401" }, 2],
    ["wsport_handshakes_refused_total", { ...chat, status: "426" }, 1],
    ["wsport_messages_received_total", chat, 40],
    ["wsport_received_bytes_total", chat, 1234],
    ["wsport_messages_sent_total", chat, 80],
    ["wsport_sent_bytes_total", chat, 2 ** 40],
    ["wsport_closes_total", { ...chat, code: "1000" }, 5],
    ["wsport_closes_total", { ...chat, code: "1006" }, 2],
    ["wsport_send_buffer_overflows_total", chat, 1],
    ["wsport_receive_queue_overflows_total", chat, 4],
    ["wsport_backplane_status", { status: "up" }, 1],
    ["wsport_backplane_up", {}, 1],
  ];
  for (const [name, labels, value] of expected) {
    assert.equal(valueOf(exposition, name, labels), value, `${name} ${JSON.stringify(labels)}`);
  }
  // Every route has each single-valued family; the labelled ones only what occurred.
  assert.equal(exposition.samples.length, 2 * 8 + 2 + 2 + 2);
  for (const [name, type] of exposition.types) {
    assert.equal(name.endsWith("_total"), type === "counter", `${name} is a ${type}`);
    assert.ok(exposition.help.has(name), `${name} has a HELP`);
  }
  for (const sample of exposition.samples) {
    assert.ok(exposition.types.has(sample.name), `${sample.name} has a TYPE`);
  }
});

test("prometheusText() escapes backslashes, quotes and line feeds in label values", () => {
  const odd = 'we"ird\\status\nline';
  const stats: SiteStats = {
    routes: { '/a"b\\c': route({ open: 1 }) },
    backplane: { status: odd },
  };
  const text = prometheusText(stats);
  assert.ok(text.includes('route="/a\\"b\\\\c"'), text);
  const exposition = parseExposition(text);
  assert.equal(valueOf(exposition, "wsport_connections_open", { route: '/a"b\\c' }), 1);
  assert.equal(valueOf(exposition, "wsport_backplane_status", { status: odd }), 1);
  assert.equal(valueOf(exposition, "wsport_backplane_up", {}), 0);
});

test("prometheusText() of a new site: every family declared, zeros, no backplane lines", () => {
  const site = new WebSocketSite();
  site.addHandler("/echo", Echo);
  const exposition = parseExposition(prometheusText(site.stats()));
  assert.equal(exposition.types.size, 10);
  assert.equal(exposition.types.has("wsport_backplane_up"), false);
  assert.deepEqual(
    exposition.samples.map((sample) => [sample.name, sample.value]),
    [
      ["wsport_connections_open", 0],
      ["wsport_handshakes_accepted_total", 0],
      ["wsport_messages_received_total", 0],
      ["wsport_received_bytes_total", 0],
      ["wsport_messages_sent_total", 0],
      ["wsport_sent_bytes_total", 0],
      ["wsport_send_buffer_overflows_total", 0],
      ["wsport_receive_queue_overflows_total", 0],
    ],
  );
});

test("prometheusText() with a backplane that tells no status: no backplane lines", () => {
  const text = prometheusText({ routes: {}, backplane: { status: undefined } });
  assert.equal(parseExposition(text).samples.length, 0);
});

/**
 * A site's numbers, live: an echo handler at `/echo`, its `site.stats()` as JSON at
 * `/stats.json` and in the Prometheus text format at `/metrics`, and a page at `/` that
 * polls the JSON and shows each route's counters and a chart of messages per second.
 * Every connection's open and close is logged as one JSON line (`onLifecycle`).
 *
 *     npm run example:metrics
 *     deno run --allow-net --allow-env examples/metrics.ts
 *     bun run examples/metrics.ts
 *
 * `PORT` sets the port (default 8080); Deno reads it only with `--allow-env`. The page
 * polls once a second; `/?interval=250` polls every 250 ms. Point Prometheus at
 * `/metrics` (`scrape_configs: [{ job_name: wsport, static_configs: [{ targets:
 * ["localhost:8080"] }] }]`).
 *
 * @module
 */

import {
  type LifecycleEvent,
  prometheusText,
  serve,
  WebSocketHandler,
  WebSocketSite,
} from "../mod.ts";
import { announce, listenOptions } from "./listen.ts";

/** Writes every message back: the traffic the page measures. */
class Echo extends WebSocketHandler {
  override frameReceived(frame: string | Uint8Array): void {
    this.transport.write(frame);
  }
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsport metrics</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --line: #8884; --muted: #8a8f98; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; }
  header { padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 1.1rem; }
  header p { margin: 0; color: var(--muted); font-size: 0.9rem; }
  main { display: grid; gap: 1.25rem; padding: 1.25rem; max-width: 60rem; }
  section { border: 1px solid var(--line); border-radius: 0.75rem; overflow: hidden; }
  h2 { margin: 0; padding: 0.5rem 0.9rem; font-size: 0.95rem; border-bottom: 1px solid var(--line); }
  h2 span { float: right; font-weight: normal; color: var(--muted); }
  #state.open { color: #16a34a; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 0.35rem 0.9rem; text-align: right; border-bottom: 1px solid var(--line); }
  th:first-child, td:first-child { text-align: left; }
  th { font-weight: 600; font-size: 0.85rem; color: var(--muted); }
  td.route { font-family: ui-monospace, monospace; }
  .chart { padding: 0.6rem 0.9rem; }
  svg { width: 100%; height: 8rem; display: block; }
  svg .axis { stroke: var(--line); }
  svg polyline { fill: none; stroke: var(--accent); stroke-width: 2;
    vector-effect: non-scaling-stroke; }
  .controls { display: flex; gap: 0.5rem; padding: 0.6rem 0.9rem; }
  button { padding: 0.4rem 0.9rem; font: inherit; color: white; background: var(--accent);
    border: 0; border-radius: 0.5rem; cursor: pointer; }
  button:disabled { opacity: 0.5; cursor: default; }
</style>
<header>
  <h1>wsport metrics</h1>
  <p><code>site.stats()</code>, polled from <a href="/stats.json">/stats.json</a>;
    the same numbers for Prometheus at <a href="/metrics">/metrics</a>.</p>
</header>
<main>
  <section aria-label="Traffic">
    <h2>This page's connection to <code>/echo</code> <span id="state">connecting…</span></h2>
    <div class="controls">
      <button id="burst" disabled>Send 10 messages</button>
      <button id="close" disabled>Close (1000)</button>
      <button id="open">Reconnect</button>
    </div>
  </section>
  <section aria-label="Routes">
    <h2>Routes <span id="updated">waiting for numbers…</span></h2>
    <table>
      <thead><tr><th>route</th><th>open</th><th>accepted</th><th>refused</th>
        <th>msgs in</th><th>msgs out</th><th>bytes in</th><th>bytes out</th><th>closes</th>
        <th>overflows</th></tr></thead>
      <tbody id="routes"></tbody>
    </table>
  </section>
  <section aria-label="Rate">
    <h2>Messages per second, in and out <span>now <b id="rate">0</b>, peak <b id="peak">0</b></span></h2>
    <div class="chart">
      <svg id="chart" viewBox="0 0 300 100" preserveAspectRatio="none" role="img"
        aria-label="messages per second over the last 60 samples">
        <line class="axis" x1="0" y1="99" x2="300" y2="99"/>
        <polyline id="line" points=""/>
      </svg>
    </div>
  </section>
</main>
<script>
const interval = Number(new URLSearchParams(location.search).get("interval")) || 1000;
const $ = (id) => document.getElementById(id);
const COLUMNS = ["open", "accepted", "refused", "messagesIn", "messagesOut", "bytesIn",
  "bytesOut", "closeCodes", "overflows"];
/** "1000×2 1006×1" for { 1000: 2, 1006: 1 }, "–" for none. */
const counts = (byKey) => Object.entries(byKey).map(([k, n]) => k + "×" + n).join(" ") || "–";

function cell(route, column) {
  if (column === "refused" || column === "closeCodes") return counts(route[column]);
  if (column === "overflows") return String(route.sendBufferOverflows + route.receiveQueueOverflows);
  return String(route[column]);
}

function showRoutes(routes) {
  const body = $("routes");
  for (const [path, route] of Object.entries(routes)) {
    let row = body.querySelector('tr[data-route="' + CSS.escape(path) + '"]');
    if (row === null) {
      row = document.createElement("tr");
      row.dataset.route = path;
      const name = document.createElement("td");
      name.className = "route";
      name.textContent = path;
      row.append(name);
      for (const column of COLUMNS) {
        const td = document.createElement("td");
        td.className = column;
        row.append(td);
      }
      body.append(row);
    }
    for (const column of COLUMNS) row.querySelector("td." + column).textContent = cell(route, column);
  }
}

const rates = [];
let previous;
function showRate(routes, now) {
  let total = 0;
  for (const route of Object.values(routes)) total += route.messagesIn + route.messagesOut;
  if (previous !== undefined) {
    const rate = Math.round((total - previous.total) / ((now - previous.now) / 1000));
    rates.push(rate);
    if (rates.length > 60) rates.shift();
    const peak = Math.max(...rates);
    $("rate").textContent = String(rate);
    $("peak").textContent = String(peak);
    const scale = Math.max(peak, 1);
    $("line").setAttribute("points", rates.map((value, i) =>
      (i * 300 / 59).toFixed(1) + "," + (99 - value / scale * 94).toFixed(1)).join(" "));
  }
  previous = { total, now };
}

async function poll() {
  try {
    const response = await fetch("/stats.json", { cache: "no-store" });
    const stats = await response.json();
    const now = performance.now();
    showRoutes(stats.routes);
    showRate(stats.routes, now);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    $("updated").textContent = "cannot read /stats.json: " + error.message;
  }
  setTimeout(poll, interval);
}

let socket;
function connect() {
  socket = new WebSocket(new URL("/echo", location.href.replace(/^http/, "ws")));
  $("open").disabled = true;
  socket.onopen = () => {
    $("state").textContent = "connected";
    $("state").className = "open";
    $("burst").disabled = $("close").disabled = false;
  };
  socket.onclose = (event) => {
    $("state").textContent = "closed (" + event.code + ")";
    $("state").className = "";
    $("burst").disabled = $("close").disabled = true;
    $("open").disabled = false;
  };
}
$("burst").onclick = () => {
  for (let i = 0; i < 10; i++) socket.send("ping " + i);
};
$("close").onclick = () => socket.close(1000, "closed from the page");
$("open").onclick = connect;
connect();
poll();
</script>
</html>
`;

/** One JSON line per connection opened or closed, as a log collector would read it. */
function logLifecycle(event: LifecycleEvent): void {
  const { transport: _, ...fields } = event;
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

const site: WebSocketSite = new WebSocketSite(http, { onLifecycle: logLifecycle });
site.addHandler("/echo", Echo);

/** The page, the numbers as JSON and for Prometheus, 404 for anything else. */
function http(request: Request): Response {
  switch (new URL(request.url).pathname) {
    case "/":
      return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    case "/stats.json":
      return Response.json(site.stats(), { headers: { "Cache-Control": "no-store" } });
    case "/metrics":
      return new Response(prometheusText(site.stats()), {
        headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    default:
      return new Response("Not Found\n", { status: 404 });
  }
}

announce(await serve(site, listenOptions()));

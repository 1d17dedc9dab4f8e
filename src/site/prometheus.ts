/**
 * A site's numbers in the Prometheus text exposition format (version 0.0.4), for a
 * `/metrics` route.
 * @module
 */

import type { RouteStats, SiteStats } from "./stats.ts";

/** One metric family: its name, type, help text, and how to read it from a route. */
interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly help: string;
  /** The samples of one route: label sets (beside `route`) and values. */
  readonly samples: (route: RouteStats) => [labels: Record<string, string>, value: number][];
}

const one = (read: (route: RouteStats) => number) => (route: RouteStats) =>
  [[{}, read(route)]] as [Record<string, string>, number][];

const byLabel =
  (label: string, read: (route: RouteStats) => Readonly<Record<number, number>>) =>
  (route: RouteStats) =>
    Object.entries(read(route)).map(([key, count]) =>
      [{ [label]: key }, count] as [Record<string, string>, number]
    );

/** The families of route metrics, in the order they are written. */
const FAMILIES: readonly Family[] = [
  {
    name: "wsport_connections_open",
    type: "gauge",
    help: "WebSocket connections open now.",
    samples: one((route) => route.open),
  },
  {
    name: "wsport_handshakes_accepted_total",
    type: "counter",
    help: "WebSocket handshakes accepted: connections opened.",
    samples: one((route) => route.accepted),
  },
  {
    name: "wsport_handshakes_refused_total",
    type: "counter",
    help: "WebSocket upgrade requests refused, by HTTP status.",
    samples: byLabel("status", (route) => route.refused),
  },
  {
    name: "wsport_messages_received_total",
    type: "counter",
    help: "Whole messages received.",
    samples: one((route) => route.messagesIn),
  },
  {
    name: "wsport_received_bytes_total",
    type: "counter",
    help: "Payload bytes of the messages received, text in UTF-8.",
    samples: one((route) => route.bytesIn),
  },
  {
    name: "wsport_messages_sent_total",
    type: "counter",
    help: "Whole messages sent, one per connection.",
    samples: one((route) => route.messagesOut),
  },
  {
    name: "wsport_sent_bytes_total",
    type: "counter",
    help: "Payload bytes of the messages sent, text in UTF-8.",
    samples: one((route) => route.bytesOut),
  },
  {
    name: "wsport_closes_total",
    type: "counter",
    help: "Connections closed, by the close code reported.",
    samples: byLabel("code", (route) => route.closeCodes),
  },
  {
    name: "wsport_send_buffer_overflows_total",
    type: "counter",
    help: "Connections failed with 1008 for a send buffer over maxSendBufferBytes.",
    samples: one((route) => route.sendBufferOverflows),
  },
  {
    name: "wsport_receive_queue_overflows_total",
    type: "counter",
    help: "Connections failed with 1008 for a receive queue over maxReceiveQueueBytes.",
    samples: one((route) => route.receiveQueueOverflows),
  },
];

/** A label value as the text format writes it: `\`, `"` and line feeds escaped. */
function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : "\\" + c);
}

function labelSet(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function header(name: string, type: string, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/**
 * Renders a site's numbers in the Prometheus text exposition format, version 0.0.4: one
 * family per number, each with `# HELP` and `# TYPE`, counters ending in `_total`, every
 * sample labelled with its `route` (and `status` for refusals, `code` for closes). With
 * a backplane, `wsport_backplane_status{status="up"} 1` gives its status, and
 * `wsport_backplane_up` is 1 while it is `"up"`, else 0. Serve it with the content type
 * `text/plain; version=0.0.4; charset=utf-8`.
 *
 * @param stats What `site.stats()` returned.
 * @returns The exposition text, ending with a line feed.
 *
 * @example A `/metrics` route beside the WebSocket routes
 * ```ts
 * import { prometheusText, serve, WebSocketSite } from "wsport";
 * const site: WebSocketSite = new WebSocketSite((request) =>
 *   new URL(request.url).pathname === "/metrics"
 *     ? new Response(prometheusText(site.stats()), {
 *       headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
 *     })
 *     : new Response("Not Found", { status: 404 })
 * );
 * // wsport_connections_open{route="/chat"} 12
 * // wsport_closes_total{route="/chat",code="1006"} 3
 * ```
 */
export function prometheusText(stats: SiteStats): string {
  let text = "";
  const routes = Object.entries(stats.routes);
  for (const family of FAMILIES) {
    text += header(family.name, family.type, family.help);
    for (const [path, route] of routes) {
      for (const [labels, value] of family.samples(route)) {
        text += `${family.name}${labelSet({ route: path, ...labels })} ${value}\n`;
      }
    }
  }
  const status = stats.backplane?.status;
  if (status !== undefined) {
    text += header("wsport_backplane_status", "gauge", "The backplane's status, as a label.");
    text += `wsport_backplane_status${labelSet({ status })} 1\n`;
    text += header("wsport_backplane_up", "gauge", "1 while the backplane is up, else 0.");
    text += `wsport_backplane_up ${status === "up" ? 1 : 0}\n`;
  }
  return text;
}

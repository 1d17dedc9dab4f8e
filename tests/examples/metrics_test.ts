/**
 * The metrics example as a process on every adapter: its JSON and Prometheus routes give
 * the numbers of the traffic a client made, and each connection's open and close is
 * logged as a JSON line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, rawRequest, upgradeRequest } from "../helpers/client.ts";
import { pairs, startExample } from "../helpers/server.ts";

for (const pair of pairs) {
  test(`the metrics example on ${pair.name}: /stats.json, /metrics and the log lines`, async () => {
    const metrics = await startExample("metrics", pair.adapter);
    const base = `http://127.0.0.1:${metrics.port}`;
    try {
      const refused = await rawRequest(
        metrics.port,
        upgradeRequest("/echo", { "Sec-WebSocket-Version": "8" }),
      );
      assert.equal(refused.status, 426);
      const client = await Client.open(`ws://127.0.0.1:${metrics.port}/echo`);
      client.send("héllo");
      assert.equal(await client.next(), "héllo");
      await client.closeAndWait(1000);
      // The server's side of the close ends a moment after the client's.
      let stats = await (await fetch(`${base}/stats.json`)).json();
      for (let turn = 0; stats.routes["/echo"].open > 0 && turn < 100; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        stats = await (await fetch(`${base}/stats.json`)).json();
      }
      assert.deepEqual(stats, {
        routes: {
          "/echo": {
            open: 0,
            accepted: 1,
            refused: { 426: 1 },
            messagesIn: 1,
            bytesIn: 6,
            messagesOut: 1,
            bytesOut: 6,
            closeCodes: { 1000: 1 },
            sendBufferOverflows: 0,
            receiveQueueOverflows: 0,
          },
        },
      });

      const exposition = await fetch(`${base}/metrics`);
      assert.equal(
        exposition.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const lines = (await exposition.text()).split("\n");
      for (
        const line of [
          "# TYPE wsport_messages_received_total counter",
          'wsport_messages_received_total{route="/echo"} 1',
          'wsport_handshakes_refused_total{route="/echo",status="426"} 1',
          'wsport_closes_total{route="/echo",code="1000"} 1',
          'wsport_connections_open{route="/echo"} 0',
        ]
      ) {
        assert.ok(lines.includes(line), `/metrics has ${line}`);
      }

      await metrics.printed('"type":"close"');
      const logged = metrics.output().split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line));
      assert.deepEqual(
        // The fields that do not vary (undefined ones dropped, as JSON drops them).
        logged.map(({ type, route, code, reason, wasClean }) =>
          JSON.parse(JSON.stringify({ type, route, code, reason, wasClean }))
        ),
        [
          { type: "open", route: "/echo" },
          { type: "close", route: "/echo", code: 1000, reason: "", wasClean: true },
        ],
      );
      for (const entry of logged) {
        assert.match(entry.time, /^\d{4}-\d\d-\d\dT/);
        assert.match(entry.remoteAddress, /127\.0\.0\.1/);
      }
      assert.equal(typeof logged[1].durationMs, "number");
    } finally {
      await metrics.stop();
    }
  });
}

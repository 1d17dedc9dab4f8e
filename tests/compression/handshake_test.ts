// The 101's Sec-WebSocket-Extensions on each adapter of this runtime: the Node adapter
// answers RFC 7692 §7.1 itself, Bun.serve answers with the preset the options map to,
// Deno.serve cannot compress and answers nothing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DeflateSetting } from "../../src/core/deflate_options.ts";
import { WebSocketSite } from "../../src/site/site.ts";
import { rawRequest, upgradeRequest } from "../helpers/client.ts";
import { Echo, type Pair, pairs, withSite } from "../helpers/server.ts";

/** A site whose `/on` route compresses with `setting` and whose `/off` route does not. */
function site(setting: DeflateSetting, siteSetting?: DeflateSetting): WebSocketSite {
  const site = new WebSocketSite(undefined, { perMessageDeflate: siteSetting });
  site.addHandler("/on", Echo, { perMessageDeflate: setting });
  site.addHandler("/off", Echo, { perMessageDeflate: false });
  return site;
}

/** Upgrades to `path` offering `offer`; returns the status and the extensions answer. */
async function answer(port: number, path: string, offer: string) {
  const response = await rawRequest(
    port,
    upgradeRequest(path, { "Sec-WebSocket-Extensions": offer }),
  );
  return {
    status: response.status,
    extensions: response.headers.get("sec-websocket-extensions") ?? "",
    body: response.body,
  };
}

const OFFER = "permessage-deflate; client_max_window_bits";

/** The answers each adapter gives, by server setting and client offer. */
const CASES: {
  setting: DeflateSetting;
  offer: string;
  node: string;
  bun: string;
}[] = [
  { setting: true, offer: OFFER, node: "permessage-deflate", bun: "permessage-deflate" },
  {
    setting: { serverNoContextTakeover: true },
    offer: OFFER,
    node: "permessage-deflate; server_no_context_takeover",
    bun: "permessage-deflate; server_no_context_takeover",
  },
  {
    setting: { clientNoContextTakeover: true },
    offer: OFFER,
    node: "permessage-deflate; client_no_context_takeover",
    bun: "permessage-deflate; client_no_context_takeover",
  },
  {
    setting: { serverMaxWindowBits: 12 },
    offer: OFFER,
    node: "permessage-deflate; server_max_window_bits=12",
    bun: "permessage-deflate; server_max_window_bits=12",
  },
  {
    // Bun cannot limit the client's window: the client keeps 15 bits.
    setting: { clientMaxWindowBits: 10 },
    offer: OFFER,
    node: "permessage-deflate; client_max_window_bits=10",
    bun: "permessage-deflate",
  },
  {
    setting: true,
    offer: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
    node: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
    bun: "permessage-deflate; client_max_window_bits=12; server_max_window_bits=10",
  },
  {
    // The first offer is invalid and declined (RFC 7692 §5).
    setting: true,
    offer: "permessage-deflate; foo=1, permessage-deflate; server_no_context_takeover",
    node: "permessage-deflate; server_no_context_takeover",
    bun: "permessage-deflate; server_no_context_takeover",
  },
];

function expected(pair: Pair, answers: { node: string; bun: string }): string {
  return pair.adapter === "deno" ? "" : answers[pair.adapter];
}

for (const pair of pairs) {
  describe(`${pair.name}: permessage-deflate in the opening handshake`, () => {
    for (const { setting, offer, ...answers } of CASES) {
      test(`answers ${JSON.stringify(offer)} under ${JSON.stringify(setting)}`, async () => {
        // Bun.serve takes one setting per server: one site per case.
        await withSite(site(setting), pair, async (server) => {
          const { status, extensions } = await answer(server.port, "/on", offer);
          assert.equal(status, 101);
          assert.equal(extensions, expected(pair, answers));
        });
      });
    }

    test("answers nothing on a route with compression off, or to no offer", async () => {
      await withSite(site(true), pair, async (server) => {
        assert.deepEqual(
          { ...(await answer(server.port, "/off", OFFER)), body: "" },
          { status: 101, extensions: "", body: "" },
        );
        const { status, extensions } = await answer(server.port, "/on", "x-other-extension");
        assert.equal(status, 101);
        assert.equal(extensions, "");
      });
    });

    test("lets a route turn off what the site turns on, and inherit it", async () => {
      await withSite(site(true, { serverNoContextTakeover: true }), pair, async (server) => {
        assert.equal((await answer(server.port, "/off", OFFER)).extensions, "");
        assert.equal(
          (await answer(server.port, "/on", OFFER)).extensions,
          expected(pair, {
            node: "permessage-deflate; server_no_context_takeover",
            bun: "permessage-deflate; server_no_context_takeover",
          }),
        );
      });
    });

    test("answers 400 to a malformed Sec-WebSocket-Extensions on a compressing route", async () => {
      await withSite(site(true), pair, async (server) => {
        const { status, body } = await answer(server.port, "/on", "permessage-deflate;;");
        assert.equal(status, 400);
        assert.match(body, /^Invalid Sec-WebSocket-Extensions header: expected a parameter name/);
        // A route that does not compress does not read the header.
        assert.equal((await answer(server.port, "/off", "permessage-deflate;;")).status, 101);
      });
    });
  });
}

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_DEFLATE_OPTIONS, type DeflateOptions } from "../../src/core/deflate_options.ts";
import { HandshakeError } from "../../src/core/errors.ts";
import { checkHandshake } from "../../src/core/handshake.ts";
import { negotiatePerMessageDeflate } from "../../src/core/permessage_deflate.ts";

const options = (changes: Partial<DeflateOptions> = {}): DeflateOptions => ({
  ...DEFAULT_DEFLATE_OPTIONS,
  ...changes,
});

/** The answer to `offer` under `changes` to the default options, or undefined. */
const answer = (offer: string, changes: Partial<DeflateOptions> = {}) =>
  negotiatePerMessageDeflate(offer, options(changes))?.response;

// RFC 7692 §7.1: each parameter, offered or not, against the server's options.

describe("RFC 7692 §5, §7.1 negotiating permessage-deflate", () => {
  test("negotiatePerMessageDeflate() accepts a plain offer with defaults: 15-bit windows, takeover", () => {
    assert.deepEqual(negotiatePerMessageDeflate("permessage-deflate", options()), {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
      response: "permessage-deflate",
    });
  });

  test("negotiatePerMessageDeflate() declines when no permessage-deflate is offered", () => {
    assert.equal(negotiatePerMessageDeflate("", options()), undefined);
    assert.equal(negotiatePerMessageDeflate("x-webkit-deflate-frame", options()), undefined);
  });

  test("negotiatePerMessageDeflate() grants server_no_context_takeover when asked (§7.1.1.1)", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate; server_no_context_takeover",
      options(),
    );
    assert.equal(agreement?.serverNoContextTakeover, true);
    assert.equal(agreement?.response, "permessage-deflate; server_no_context_takeover");
  });

  test("negotiatePerMessageDeflate() adds server_no_context_takeover when configured", () => {
    assert.equal(
      answer("permessage-deflate", { serverNoContextTakeover: true }),
      "permessage-deflate; server_no_context_takeover",
    );
  });

  test("negotiatePerMessageDeflate() echoes client_no_context_takeover when offered (§7.1.1.2)", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate; client_no_context_takeover",
      options(),
    );
    assert.equal(agreement?.clientNoContextTakeover, true);
    assert.equal(agreement?.response, "permessage-deflate; client_no_context_takeover");
  });

  test("negotiatePerMessageDeflate() asks for client_no_context_takeover when configured", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate",
      options({ clientNoContextTakeover: true }),
    );
    assert.equal(agreement?.clientNoContextTakeover, true);
    assert.equal(agreement?.response, "permessage-deflate; client_no_context_takeover");
  });

  test("negotiatePerMessageDeflate() answers server_max_window_bits with the smaller value (§7.1.2.1)", () => {
    assert.equal(
      answer("permessage-deflate; server_max_window_bits=10"),
      "permessage-deflate; server_max_window_bits=10",
    );
    assert.equal(
      answer("permessage-deflate; server_max_window_bits=10", { serverMaxWindowBits: 9 }),
      "permessage-deflate; server_max_window_bits=9",
    );
    assert.equal(
      answer("permessage-deflate; server_max_window_bits=15"),
      "permessage-deflate; server_max_window_bits=15",
    );
    assert.equal(
      negotiatePerMessageDeflate(
        "permessage-deflate; server_max_window_bits=12",
        options({ serverMaxWindowBits: 14 }),
      )?.serverMaxWindowBits,
      12,
    );
  });

  test("negotiatePerMessageDeflate() states a configured server window unasked", () => {
    assert.equal(
      answer("permessage-deflate", { serverMaxWindowBits: 11 }),
      "permessage-deflate; server_max_window_bits=11",
    );
  });

  test("negotiatePerMessageDeflate() grants server_max_window_bits=8 (compressed with zlib's 9)", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate; server_max_window_bits=8",
      options(),
    );
    assert.equal(agreement?.serverMaxWindowBits, 8);
    assert.equal(agreement?.response, "permessage-deflate; server_max_window_bits=8");
  });

  test("negotiatePerMessageDeflate() leaves a valueless client_max_window_bits unanswered at 15 (§7.1.2.2)", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate; client_max_window_bits",
      options(),
    );
    assert.equal(agreement?.clientMaxWindowBits, 15);
    assert.equal(agreement?.response, "permessage-deflate");
  });

  test("negotiatePerMessageDeflate() limits the client's window when it can be limited", () => {
    assert.equal(
      answer("permessage-deflate; client_max_window_bits", { clientMaxWindowBits: 10 }),
      "permessage-deflate; client_max_window_bits=10",
    );
    assert.equal(
      answer("permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 10 }),
      "permessage-deflate; client_max_window_bits=10",
    );
    assert.equal(
      answer("permessage-deflate; client_max_window_bits=9", { clientMaxWindowBits: 10 }),
      "permessage-deflate; client_max_window_bits=9",
    );
    assert.equal(
      answer("permessage-deflate; client_max_window_bits=8"),
      "permessage-deflate; client_max_window_bits=8",
    );
  });

  test("negotiatePerMessageDeflate() declines a client that cannot limit its window when it must", () => {
    assert.equal(answer("permessage-deflate", { clientMaxWindowBits: 12 }), undefined);
  });

  test("negotiatePerMessageDeflate() combines all four parameters", () => {
    const agreement = negotiatePerMessageDeflate(
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover; " +
        "server_max_window_bits=12; client_max_window_bits=11",
      options(),
    );
    assert.deepEqual(agreement, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 12,
      clientMaxWindowBits: 11,
      response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
        "server_max_window_bits=12; client_max_window_bits=11",
    });
  });

  test("negotiatePerMessageDeflate() reads quoted values", () => {
    assert.equal(
      answer('permessage-deflate; server_max_window_bits="10"'),
      "permessage-deflate; server_max_window_bits=10",
    );
  });

  // RFC 7692 §5: invalid offers are declined, and the next offer is tried.

  test("negotiatePerMessageDeflate() declines offers with invalid parameters", () => {
    const invalid = [
      "permessage-deflate; foo",
      "permessage-deflate; foo=1",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; client_no_context_takeover=true",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits=+9",
      "permessage-deflate; server_max_window_bits=1e1",
      "permessage-deflate; client_max_window_bits=0",
      'permessage-deflate; client_max_window_bits="99"',
      "permessage-deflate; Server_No_Context_Takeover",
    ];
    for (const offer of invalid) assert.equal(answer(offer), undefined, offer);
  });

  test("negotiatePerMessageDeflate() accepts the first acceptable offer (§7.1.3's fallback)", () => {
    // The first offer is invalid, the second is not.
    assert.equal(
      answer("permessage-deflate; foo, permessage-deflate; client_max_window_bits=10"),
      "permessage-deflate; client_max_window_bits=10",
    );
    // The first offer cannot be met under these options, the second can.
    assert.equal(
      answer(
        "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits",
        { clientMaxWindowBits: 12 },
      ),
      "permessage-deflate; client_max_window_bits=12",
    );
    // Both are acceptable: the first wins.
    assert.equal(
      answer(
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10, " +
          "permessage-deflate; client_max_window_bits",
      ),
      "permessage-deflate; server_max_window_bits=10",
    );
  });

  test("negotiatePerMessageDeflate() skips other extensions before its own", () => {
    assert.equal(answer("x-foo; bar=1, permessage-deflate"), "permessage-deflate");
  });

  test("negotiatePerMessageDeflate() throws 400 for a header that breaks the grammar", () => {
    assert.throws(
      () => negotiatePerMessageDeflate("permessage-deflate; server_max_window_bits=", options()),
      (error) => error instanceof HandshakeError && error.status === 400,
    );
  });
});

// The handshake carries the agreement.

const handshake = (extensions: string | null, perMessageDeflate?: boolean) => {
  const headers = new Headers({
    Host: "localhost",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
  });
  if (extensions !== null) headers.set("Sec-WebSocket-Extensions", extensions);
  return checkHandshake(new Request("http://localhost/", { headers }), { perMessageDeflate });
};

describe("RFC 7692 §5 the agreement in the opening handshake", () => {
  test("checkHandshake() carries the permessage-deflate agreement when it is on", () => {
    const acceptance = handshake("permessage-deflate; client_max_window_bits", true);
    assert.equal(acceptance.perMessageDeflate?.response, "permessage-deflate");
  });

  test("checkHandshake() carries no agreement when compression is off or not offered", () => {
    assert.equal(handshake("permessage-deflate", false).perMessageDeflate, undefined);
    assert.equal(handshake("permessage-deflate").perMessageDeflate, undefined);
    assert.equal(handshake(null, true).perMessageDeflate, undefined);
    assert.equal("perMessageDeflate" in handshake("permessage-deflate; foo", true), false);
  });

  test("checkHandshake() answers 400 to a malformed extensions header only when compression is on", () => {
    assert.throws(() => handshake("permessage-deflate;", true), (error) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 400);
      assert.match(error.message, /Invalid Sec-WebSocket-Extensions header/);
      return true;
    });
    assert.equal(handshake("permessage-deflate;", false).extensions, "permessage-deflate;");
  });
});

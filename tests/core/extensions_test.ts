import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HandshakeError } from "../../src/core/errors.ts";
import { formatExtension, parseExtensions } from "../../src/core/extensions.ts";

const param = (name: string, value?: string) => ({ name, value });

/** Asserts that parsing `header` fails with a 400 whose message names the problem. */
function assertMalformed(header: string, detail: RegExp): void {
  assert.throws(() => parseExtensions(header), (error) => {
    assert.ok(error instanceof HandshakeError, `expected a HandshakeError, got ${error}`);
    assert.equal(error.status, 400);
    assert.match(error.message, /^Invalid Sec-WebSocket-Extensions header: /);
    assert.match(error.message, detail);
    return true;
  });
}

describe("RFC 6455 §9.1 reading Sec-WebSocket-Extensions", () => {
  test("parseExtensions() reads no offers from an empty header", () => {
    assert.deepEqual(parseExtensions(""), []);
    assert.deepEqual(parseExtensions("  ,  , "), []);
  });

  test("parseExtensions() reads an extension with no parameters", () => {
    assert.deepEqual(parseExtensions("permessage-deflate"), [
      { name: "permessage-deflate", params: [] },
    ]);
  });

  test("parseExtensions() reads parameters with and without values, in order", () => {
    assert.deepEqual(
      parseExtensions("permessage-deflate; client_max_window_bits; server_max_window_bits=10"),
      [{
        name: "permessage-deflate",
        params: [param("client_max_window_bits"), param("server_max_window_bits", "10")],
      }],
    );
  });

  test("parseExtensions() reads several offers, as RFC 7692 §7.1.3's fallback example", () => {
    assert.deepEqual(
      parseExtensions(
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10, " +
          "permessage-deflate; client_max_window_bits",
      ),
      [
        {
          name: "permessage-deflate",
          params: [param("client_max_window_bits"), param("server_max_window_bits", "10")],
        },
        { name: "permessage-deflate", params: [param("client_max_window_bits")] },
      ],
    );
  });

  test("parseExtensions() reads several headers joined by Headers as one list", () => {
    const headers = new Headers();
    headers.append("Sec-WebSocket-Extensions", "x-foo; a=1");
    headers.append("Sec-WebSocket-Extensions", "permessage-deflate");
    assert.deepEqual(parseExtensions(headers.get("sec-websocket-extensions")!), [
      { name: "x-foo", params: [param("a", "1")] },
      { name: "permessage-deflate", params: [] },
    ]);
  });

  test("parseExtensions() unquotes quoted values and their escapes", () => {
    assert.deepEqual(parseExtensions('permessage-deflate; server_max_window_bits="10"'), [
      { name: "permessage-deflate", params: [param("server_max_window_bits", "10")] },
    ]);
    assert.deepEqual(parseExtensions('x; a="b\\c"'), [{ name: "x", params: [param("a", "bc")] }]);
  });

  test("parseExtensions() allows whitespace around every separator and empty list items", () => {
    assert.deepEqual(
      parseExtensions(' ,permessage-deflate \t;\tclient_max_window_bits = 12 ,, x ; y="z" ,'),
      [
        { name: "permessage-deflate", params: [param("client_max_window_bits", "12")] },
        { name: "x", params: [param("y", "z")] },
      ],
    );
  });

  test("parseExtensions() keeps duplicate and unknown parameters for the extension to judge", () => {
    assert.deepEqual(parseExtensions("permessage-deflate; a; a=1; foo=bar"), [
      { name: "permessage-deflate", params: [param("a"), param("a", "1"), param("foo", "bar")] },
    ]);
  });

  test("parseExtensions() rejects a missing extension or parameter name with 400", () => {
    assertMalformed(";", /expected an extension name at offset 0/);
    assertMalformed("permessage-deflate;", /expected a parameter name at offset 19/);
    assertMalformed("permessage-deflate; =1", /expected a parameter name/);
  });

  test("parseExtensions() rejects a missing value after '=' with 400", () => {
    assertMalformed("permessage-deflate; server_max_window_bits=", /expected a parameter value/);
    assertMalformed("permessage-deflate; a=,", /expected a parameter value/);
  });

  test("parseExtensions() rejects text where a separator belongs with 400", () => {
    assertMalformed("permessage-deflate x", /unexpected "x" after permessage-deflate/);
    assertMalformed("permessage-deflate; a=1 2", /unexpected "2"/);
    assertMalformed("permessage-deflate/1", /unexpected "\/"/);
  });

  test("parseExtensions() rejects a bad quoted string with 400", () => {
    assertMalformed('x; a="10', /unterminated quoted string at offset 5/);
    assertMalformed('x; a="1\\', /unterminated quoted string/);
    assertMalformed('x; a="1 0"', /quoted value at offset 5 is not a token/);
    assertMalformed('x; a=""', /not a token/);
  });

  test("parseExtensions() rejects characters outside tokens with 400", () => {
    assertMalformed("permessage-déflate", /unexpected "é"/);
    assertMalformed('"permessage-deflate"', /expected an extension name/);
  });
});

describe("RFC 6455 §9.1 writing an extension", () => {
  test("formatExtension() writes parameters with and without values", () => {
    assert.equal(formatExtension({ name: "permessage-deflate", params: [] }), "permessage-deflate");
    assert.equal(
      formatExtension({
        name: "permessage-deflate",
        params: [param("server_no_context_takeover"), param("client_max_window_bits", "10")],
      }),
      "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
    );
  });

  test("formatExtension() output parses back to the same extension", () => {
    const extension = {
      name: "permessage-deflate",
      params: [param("client_no_context_takeover"), param("server_max_window_bits", "9")],
    };
    assert.deepEqual(parseExtensions(formatExtension(extension)), [extension]);
  });
});

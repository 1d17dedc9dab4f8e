import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CloseCode,
  GUID,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD_BYTES,
  Opcode,
} from "../../src/core/constants.ts";

test("Opcode has RFC 6455 §11.8's values", () => {
  assert.deepEqual({ ...Opcode }, {
    Continuation: 0x0,
    Text: 0x1,
    Binary: 0x2,
    Close: 0x8,
    Ping: 0x9,
    Pong: 0xa,
  });
});

test("Opcode control frames are exactly those with the 0x8 bit set", () => {
  const control = Object.values(Opcode).filter((opcode) => (opcode & 0x8) !== 0);
  assert.deepEqual(control, [Opcode.Close, Opcode.Ping, Opcode.Pong]);
});

test("CloseCode has RFC 6455 §7.4.1's and the IANA registry's values", () => {
  assert.deepEqual({ ...CloseCode }, {
    NormalClosure: 1000,
    GoingAway: 1001,
    ProtocolError: 1002,
    UnsupportedData: 1003,
    NoStatusReceived: 1005,
    AbnormalClosure: 1006,
    InvalidPayload: 1007,
    PolicyViolation: 1008,
    MessageTooBig: 1009,
    MandatoryExtension: 1010,
    InternalError: 1011,
    ServiceRestart: 1012,
    TryAgainLater: 1013,
    BadGateway: 1014,
    TlsHandshake: 1015,
  });
});

test("GUID is RFC 6455 §1.3's", () => {
  assert.equal(GUID, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
});

test("MAX_CONTROL_PAYLOAD_BYTES and MAX_CLOSE_REASON_BYTES follow RFC 6455 §5.5", () => {
  assert.equal(MAX_CONTROL_PAYLOAD_BYTES, 125);
  assert.equal(MAX_CLOSE_REASON_BYTES, MAX_CONTROL_PAYLOAD_BYTES - 2);
});

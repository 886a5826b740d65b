/**
 * Golden bytes of the mesh call envelope the NATS transport carries (`adapters/transport/_envelope.ts`), and its
 * decoders on truncated and foreign input.
 */
import {
  decodeError,
  encodeError,
  encodeRequest,
  encodeResult,
  ReplyStatus,
  replyStatus,
  requestArgsOffset,
  requestCodec,
  requestMethod,
} from "../../adapters/transport/_envelope.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

const utf8 = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("encodeRequest() lays out rank.top(3) in JSON as the module documents", () => {
  const request = encodeRequest("top", "json", utf8.encode("[3]"));
  assertEquals(hex(request), "01 03 74 6f 70 04 6a 73 6f 6e 5b 33 5d");
  assertEquals(requestArgsOffset(request), 10);
  assertEquals(requestMethod(request), "top");
  assertEquals(requestCodec(request), "json");
});

Deno.test("encodeResult() and encodeError() lay out the replies as the module documents", () => {
  assertEquals(hex(encodeResult(utf8.encode("[1,2]"))), "00 5b 31 2c 32 5d");
  const error = encodeError("route_not_found", "no such service");
  assertEquals(
    hex(error),
    "01 0f 72 6f 75 74 65 5f 6e 6f 74 5f 66 6f 75 6e 64 6e 6f 20 73 75 63 68 20 73 65 72 76 69 63 65",
  );
  assertEquals(replyStatus(error), ReplyStatus.Error);
  assertEquals(decodeError(error), { code: "route_not_found", message: "no such service" });
});

Deno.test("requestArgsOffset() refuses every truncation of a request and another version", () => {
  const request = encodeRequest("top", "json", new Uint8Array(0));
  for (let end = 0; end < request.length; end++) {
    assertEquals(requestArgsOffset(request.subarray(0, end)), -1, `cut at ${end}`);
  }
  assertEquals(requestArgsOffset(request), request.length);
  assertEquals(requestArgsOffset(Uint8Array.of(2, 0, 0)), -1);
  assertEquals(requestArgsOffset(Uint8Array.of(1, 0, 0)), 3, "empty names are the mesh's business");
});

Deno.test("requestMethod() gives undefined for a name that is not UTF-8", () => {
  const request = Uint8Array.of(1, 1, 0xff, 4, ...utf8.encode("json"));
  assertEquals(requestArgsOffset(request), request.length);
  assertEquals(requestMethod(request), undefined);
  assertEquals(requestCodec(request), "json");
});

Deno.test("encodeRequest() refuses a method name over 255 UTF-8 bytes", () => {
  encodeRequest("m".repeat(255), "json", new Uint8Array(0));
  assertThrows(() => encodeRequest("é".repeat(128), "json", new Uint8Array(0)), RangeError, "at most 255");
});

Deno.test("replyStatus() and decodeError() refuse empty, unknown and truncated replies", () => {
  assertEquals(replyStatus(new Uint8Array(0)), -1);
  assertEquals(replyStatus(Uint8Array.of(2)), -1);
  assertEquals(replyStatus(Uint8Array.of(0)), ReplyStatus.Ok);
  const error = encodeError("internal", "boom");
  for (let end = 0; end < 2 + "internal".length; end++) {
    assertEquals(decodeError(error.subarray(0, end)), undefined, `cut at ${end}`);
  }
  assertEquals(decodeError(error.subarray(0, 10)), { code: "internal", message: "" });
  assertEquals(decodeError(encodeResult(new Uint8Array(3))), undefined);
});

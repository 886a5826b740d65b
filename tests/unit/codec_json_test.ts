import { assert, assertEquals } from "../_helpers/assert.ts";
import { createJsonCodec } from "../../adapters/codec/json.ts";

const VALUES = [
  { message: "hi" },
  { nested: { list: [1, 2.5, "日本"], ok: true } },
  "text",
  42,
  null,
  [],
  "😀",
];

Deno.test("json codec: encode() and encodeText() agree, and decode() reads both back", () => {
  const codec = createJsonCodec();
  for (const value of VALUES) {
    const text = codec.encodeText!(value)!;
    assertEquals(text, JSON.stringify(value));
    assertEquals([...codec.encode(value)], [...new TextEncoder().encode(text)]);
    assertEquals(codec.decode(codec.encode(value)), value);
  }
});

Deno.test("json codec: bytes pass through encode() and are refused by encodeText(); undefined is empty", () => {
  const codec = createJsonCodec();
  const bytes = new Uint8Array([1, 2, 3]);
  assert(codec.encode(bytes) === bytes, "the same bytes");
  assertEquals(codec.encodeText!(bytes), undefined);
  assertEquals(codec.encode(undefined).length, 0);
  assertEquals(codec.encodeText!(undefined), "");
  assertEquals(codec.decode(new Uint8Array(0)), undefined);
});

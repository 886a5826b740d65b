import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  allocBytes,
  copyBytes,
  MAX_SLAB_ALLOC,
  utf8Decode,
  utf8Encode,
  utf8Length,
} from "../../core/bytes.ts";

const SAMPLES = [
  "",
  "hi",
  '{"message":"hello"}',
  "héllo wörld",
  "日本語のテキスト",
  "emoji 😀 and 🎮",
  "lone \ud800 surrogate",
  "trailing \udc00",
  "x".repeat(300),
  "é".repeat(200),
];

Deno.test("utf8Encode() writes exactly what TextEncoder writes", () => {
  // Encoded back to back and compared only afterwards: the unused tail each encoding gives back to the slab must
  // not overlap what it wrote, nor what the next allocation gets.
  const encoded = SAMPLES.map((text) => utf8Encode(text));
  const after = allocBytes(64).fill(0xee);
  SAMPLES.forEach((text, i) => {
    assertEquals([...encoded[i]], [...new TextEncoder().encode(text)], JSON.stringify(text));
    assertEquals(utf8Length(text), new TextEncoder().encode(text).length, JSON.stringify(text));
  });
  assertEquals([...after], new Array(64).fill(0xee));
});

Deno.test("utf8Decode() reads exactly what TextDecoder reads, malformed bytes included", () => {
  const inputs = SAMPLES.map((text) => new TextEncoder().encode(text));
  const malformed = [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0x41, 0xc3], [
    0xf0,
    0x9f,
    0x98,
  ], [0xe2, 0x82]];
  for (const bytes of [...inputs, ...malformed.map((b) => new Uint8Array(b))]) {
    assertEquals(utf8Decode(bytes), new TextDecoder().decode(bytes), [...bytes].join(","));
  }
  assertEquals(utf8Decode(new TextEncoder().encode("日本語")), "日本語");
});

Deno.test("allocBytes() cuts small buffers from a shared slab and gives large ones their own", () => {
  const a = allocBytes(10);
  const b = allocBytes(10);
  assert(a.buffer === b.buffer, "small buffers should share a slab");
  assert(b.byteOffset >= a.byteOffset + 10, "views must not overlap");
  assertEquals(b.byteOffset % 8, 0);
  const big = allocBytes(MAX_SLAB_ALLOC + 1);
  assertEquals(big.byteOffset, 0);
  assertEquals(big.length, MAX_SLAB_ALLOC + 1);
  const copy = copyBytes(new Uint8Array([1, 2, 3]));
  assertEquals([...copy], [1, 2, 3]);
});

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import {
  allocBytes,
  copyBytes,
  MAX_SLAB_ALLOC,
  utf8Decode,
  utf8Encode,
  utf8EncodeAfter,
  utf8Length,
} from "../../core/bytes.ts";
import { createPacketFormat, decodePacket, encodeMessage, encodeTextMessage } from "../../core/packet.ts";

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
  "y".repeat(1400), // over the JS loop's limit, still in a slab
  "z".repeat(5000), // over the slab limit
  "日".repeat(30_000), // over the scratch buffer
];

Deno.test("utf8Encode() writes exactly what TextEncoder writes", () => {
  // Encoded back to back and compared only afterwards: each encoding reserves the worst case but keeps only what
  // it wrote, which must not overlap the next encoding nor the next allocation.
  const encoded = SAMPLES.map((text) => utf8Encode(text));
  const after = allocBytes(64).fill(0xee);
  SAMPLES.forEach((text, i) => {
    assertEquals([...encoded[i]], [...new TextEncoder().encode(text)], JSON.stringify(text));
    assertEquals(utf8Length(text), new TextEncoder().encode(text).length, JSON.stringify(text));
  });
  assertEquals([...after], new Array(64).fill(0xee));
});

Deno.test("utf8EncodeAfter() leaves the header bytes to the caller and writes the text behind them", () => {
  for (const headerBytes of [0, 5, 12]) {
    const encoded = SAMPLES.map((text) => utf8EncodeAfter(headerBytes, text));
    encoded.forEach((out) => out.fill(0xaa, 0, headerBytes)); // what a packer does with the header
    SAMPLES.forEach((text, i) => {
      const expected = [...new Array(headerBytes).fill(0xaa), ...new TextEncoder().encode(text)];
      assertEquals([...encoded[i]], expected, `${headerBytes}: ${JSON.stringify(text.slice(0, 20))}`);
    });
  }
  // Through several slabs: no view overlaps the next one.
  const many = Array.from({ length: 400 }, (_, i) => utf8EncodeAfter(4, `${i}`.repeat(100)));
  many.forEach((out, i) => assertEquals(utf8Decode(out.subarray(4)), `${i}`.repeat(100)));
});

Deno.test("encodeTextMessage() writes the same bytes as encodeMessage() of the encoded text, and checks limits", () => {
  for (
    const format of [
      createPacketFormat(),
      createPacketFormat({ byteOrder: "little", routeBytes: 4, seqBytes: 4 }),
    ]
  ) {
    for (const text of SAMPLES) {
      const bytes = new TextEncoder().encode(text);
      if (bytes.length > format.maxSize - format.dataHeaderBytes) continue;
      assertEquals([...encodeTextMessage(format, 7, 3, text)], [...encodeMessage(format, 7, 3, bytes)]);
    }
    const decoded = decodePacket(format, encodeTextMessage(format, 1, 2, '{"message":"hi"}'));
    assertEquals(decoded?.kind, "data");
  }
  const small = createPacketFormat({ bufferBytes: 16 });
  assertThrows(() => encodeTextMessage(small, 1, 1, "x".repeat(40)), RangeError);
  assertThrows(() => encodeTextMessage(createPacketFormat({ routeBytes: 1 }), 300, 1, "x"), RangeError);
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

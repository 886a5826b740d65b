import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import {
  classifyPacket,
  createPacketFormat,
  decodePacket,
  encodeHeartbeat,
  encodeMessage,
  encodeTimedHeartbeat,
  PacketKind,
  readRoute,
  readSeq,
} from "../../core/packet.ts";
import { FeedResult, FrameReader } from "../../core/frame_reader.ts";

const hex = (s: string) =>
  new Uint8Array(s.replace(/[^0-9a-f]/gi, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const hi = new TextEncoder().encode('{"message":"hi"}');

Deno.test("encodeMessage() writes the worked example of PROTOCOL.md §1 in big endian", () => {
  const packet = encodeMessage(createPacketFormat(), 1, 7, hi);
  assertEquals(
    toHex(packet),
    toHex(hex("00 00 00 15 00 00 01 00 07 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d")),
  );
});

Deno.test("encodeMessage() writes the worked example in little endian", () => {
  const packet = encodeMessage(createPacketFormat({ byteOrder: "little" }), 1, 7, hi);
  assertEquals(toHex(packet.subarray(0, 9)), "15 00 00 00 00 01 00 07 00");
});

Deno.test("encodeMessage() honours routeBytes 1/4 and seqBytes 0/1/4 with signed values", () => {
  const cases: [1 | 2 | 4, 0 | 1 | 2 | 4, number, number, string][] = [
    [1, 0, -1, 0, "00 00 00 02 00 ff"],
    [1, 1, 127, -128, "00 00 00 03 00 7f 80"],
    [4, 4, -2, 0x7fffffff, "00 00 00 09 00 ff ff ff fe 7f ff ff ff"],
    [2, 2, -32768, 32767, "00 00 00 05 00 80 00 7f ff"],
  ];
  for (const [routeBytes, seqBytes, route, seq, want] of cases) {
    const format = createPacketFormat({ routeBytes, seqBytes });
    const packet = encodeMessage(format, route, seq);
    assertEquals(toHex(packet), want);
    assertEquals(readRoute(format, packet, 0), route);
    assertEquals(readSeq(format, packet, 0), seq);
  }
});

Deno.test("encodeMessage() rejects a route, seq or payload that does not fit", () => {
  const format = createPacketFormat({ routeBytes: 1, seqBytes: 1, bufferBytes: 4 });
  assertThrows(() => encodeMessage(format, 128, 0), RangeError, "'route'");
  assertThrows(() => encodeMessage(format, 1, 128), RangeError, "'seq'");
  assertThrows(() => encodeMessage(format, 1, 1, new Uint8Array(5)), RangeError, "packet.bufferBytes");
  assertThrows(() => encodeMessage(createPacketFormat({ seqBytes: 0 }), 1, 1), RangeError, "'seq'");
});

Deno.test("createPacketFormat() rejects options outside their sets", () => {
  assertThrows(
    () => createPacketFormat({ routeBytes: 3 as 2 }),
    RangeError,
    "'routeBytes' must be 1, 2 or 4",
  );
  assertThrows(() => createPacketFormat({ seqBytes: 8 as 2 }), RangeError, "'seqBytes'");
  assertThrows(() => createPacketFormat({ byteOrder: "middle" as "big" }), RangeError, "'byteOrder'");
});

Deno.test("encodeHeartbeat() and encodeTimedHeartbeat() match the protocol bytes", () => {
  assertEquals(toHex(encodeHeartbeat(createPacketFormat())), "00 00 00 01 80");
  assertEquals(toHex(encodeHeartbeat(createPacketFormat({ byteOrder: "little" }))), "01 00 00 00 80");
  const timed = encodeTimedHeartbeat(createPacketFormat(), 1717000000123456789n);
  assertEquals(toHex(timed), "00 00 00 09 80 17 d4 02 67 2e b4 4d 15");
  const decoded = decodePacket(createPacketFormat(), timed);
  assertEquals(decoded, { kind: "heartbeat", timeNs: 1717000000123456789n });
});

Deno.test("decodePacket() reads data, ignores size 0, and rejects malformed packets", () => {
  const format = createPacketFormat();
  const decoded = decodePacket(format, encodeMessage(format, 1, 7, hi));
  assertEquals(decoded?.kind, "data");
  if (decoded?.kind === "data") {
    assertEquals([decoded.route, decoded.seq, new TextDecoder().decode(decoded.payload)], [
      1,
      7,
      '{"message":"hi"}',
    ]);
  }
  assertEquals(decodePacket(format, hex("00 00 00 00")), undefined);
  assertThrows(
    () => decodePacket(format, hex("00 00 00 02 00 01")),
    SyntaxError,
    "shorter than the data header",
  );
  assertThrows(() => decodePacket(format, hex("00 00 00 05 00 01")), SyntaxError, "disagrees");
});

Deno.test("classifyPacket() tells no-op, heartbeat, data and invalid apart", () => {
  const format = createPacketFormat();
  assertEquals(classifyPacket(format, hex("00 00 00 00"), 0, 4), PacketKind.Noop);
  assertEquals(classifyPacket(format, hex("00 00 00 01 80"), 0, 5), PacketKind.Heartbeat);
  assertEquals(classifyPacket(format, hex("00 00 00 05 00 00 01 00 01"), 0, 9), PacketKind.Data);
  assertEquals(classifyPacket(format, hex("00 00 00 02 00 00"), 0, 6), PacketKind.Invalid);
});

Deno.test("FrameReader hands on the same packets whatever offset the stream is split at", () => {
  const format = createPacketFormat();
  const stream = new Uint8Array([
    ...encodeMessage(format, 1, 7, hi),
    ...hex("00 00 00 00"),
    ...encodeHeartbeat(format),
    ...encodeMessage(format, -3, 9, new Uint8Array(300).fill(7)),
  ]);
  const want = [25, 4, 5, 309];
  for (let split = 0; split <= stream.length; split++) {
    for (const step of [1, 3, 1000]) {
      const got: number[] = [];
      const reader = new FrameReader({ little: false, maxSize: format.maxSize }, (f) => got.push(f.length));
      assertEquals(reader.feed(stream.subarray(0, split)), FeedResult.Ok);
      for (let off = split; off < stream.length; off += step) {
        assertEquals(reader.feed(stream.subarray(off, Math.min(off + step, stream.length))), FeedResult.Ok);
      }
      assertEquals(got, want, `split at ${split}, step ${step}`);
      assertEquals(reader.buffered, 0);
    }
  }
});

Deno.test("FrameReader rejects a declared size above the limit before allocating, even when split", () => {
  const reader = new FrameReader({ little: false, maxSize: 5009 }, () => {});
  assertEquals(reader.feed(hex("7f ff")), FeedResult.Ok);
  assertEquals(reader.feed(hex("ff ff 00")), FeedResult.TooLarge);
  assertEquals(reader.lastSize, 0x7fffffff);
  const whole = new FrameReader({ little: true, maxSize: 10 }, () => {});
  assertEquals(whole.feed(hex("0b 00 00 00")), FeedResult.TooLarge);
});

Deno.test("FrameReader keeps a whole frame zero-copy and copies only split frames", () => {
  const chunk = hex("00 00 00 01 80 00 00 00 01");
  const frames: Uint8Array[] = [];
  const reader = new FrameReader({ little: false, maxSize: 10 }, (f) => frames.push(f));
  reader.feed(chunk);
  reader.feed(hex("80"));
  assertEquals(frames[0].buffer, chunk.buffer);
  assertEquals(frames[1].buffer === chunk.buffer, false);
  assertEquals(toHex(frames[1]), "00 00 00 01 80");
});

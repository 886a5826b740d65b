import { assertEquals } from "../_helpers/assert.ts";
import { fromHex, toHex } from "../_helpers/kcp.ts";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  isKcpCmd,
  Kcp,
  KCP_OVERHEAD,
  KcpCmd,
  readConv,
  readU16LE,
  readU32LE,
  writeU16LE,
  writeU32LE,
} from "../../adapters/network/kcp/mod.ts";

interface VectorSegment {
  offset: number;
  conv: number;
  cmd: number;
  frg: number;
  wnd: number;
  ts: number;
  sn: number;
  una: number;
  len: number;
  data?: string;
}

interface Vector {
  name: string;
  hex: string;
  length: number;
  getconv: number | null;
  segments: VectorSegment[];
  trailing?: number;
  rejected_header?: VectorSegment;
  input_conv: number;
  input_ret: number;
}

const vectors: Vector[] = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/kcp/segments.json", import.meta.url)),
).vectors;

/** Walks a datagram as `ikcp_input` does, with our decoder: accepted segments, then the rejected header if any. */
function walk(bytes: Uint8Array, conv: number) {
  const segments: VectorSegment[] = [];
  let off = 0;
  while (bytes.length - off >= KCP_OVERHEAD) {
    const h = decodeSegmentHeader(bytes, off)!;
    const header = { offset: off, ...h };
    if (h.conv !== conv || bytes.length - off - KCP_OVERHEAD < h.len || !isKcpCmd(h.cmd)) {
      return { segments, rejected: header, trailing: undefined };
    }
    const data = toHex(bytes.subarray(off + KCP_OVERHEAD, off + KCP_OVERHEAD + h.len));
    segments.push({ ...header, data });
    off += KCP_OVERHEAD + h.len;
  }
  return { segments, rejected: undefined, trailing: bytes.length - off };
}

Deno.test("segments.json holds the 29 vectors the README lists", () => {
  assertEquals(vectors.length, 29);
});

Deno.test("decodeSegmentHeader() decodes every reference datagram as ikcp_input walks it", () => {
  for (const v of vectors) {
    const bytes = fromHex(v.hex);
    assertEquals(bytes.length, v.length, v.name);
    const { segments, rejected, trailing } = walk(bytes, v.input_conv);
    assertEquals(segments, v.segments, v.name);
    assertEquals(rejected, v.rejected_header, v.name);
    assertEquals(trailing, v.rejected_header ? undefined : v.trailing, v.name);
  }
});

Deno.test("encodeSegmentHeader() re-encodes every accepted reference segment to the same bytes", () => {
  let checked = 0;
  for (const v of vectors) {
    const bytes = fromHex(v.hex);
    const out = new Uint8Array(bytes.length);
    let end = 0;
    for (const s of v.segments) {
      const next = encodeSegmentHeader(out, s.offset, s.conv, s.cmd, s.frg, s.wnd, s.ts, s.sn, s.una, s.len);
      assertEquals(next, s.offset + KCP_OVERHEAD, v.name);
      out.set(fromHex(s.data!), next);
      end = next + s.len;
    }
    out.set(bytes.subarray(end), end); // trailing bytes or the rejected header, copied as is
    assertEquals(toHex(out), v.hex, v.name);
    checked += v.segments.length;
  }
  assertEquals(checked > 30, true);
});

Deno.test("readConv() returns the first 4 bytes as u32, or -1 when shorter", () => {
  for (const v of vectors) assertEquals(readConv(fromHex(v.hex)), v.getconv ?? -1, v.name);
  assertEquals(readConv(new Uint8Array([1, 2, 3])), -1);
  assertEquals(readConv(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
});

Deno.test("Kcp.input() returns ikcp_input's code for every reference datagram on a fresh endpoint", () => {
  for (const v of vectors) {
    const kcp = new Kcp(v.input_conv, () => {
      throw new Error("input must not output");
    });
    assertEquals(kcp.input(fromHex(v.hex)), v.input_ret, v.name);
  }
});

Deno.test("encodeSegmentHeader() writes every field little-endian at its offset", () => {
  const buf = new Uint8Array(30).fill(0xee);
  encodeSegmentHeader(buf, 3, 0x01020304, KcpCmd.Ack, 0, 0x0102, 0x0a0b0c0d, 0x11121314, 0x21222324, 0);
  assertEquals(
    toHex(buf),
    "eeeeee" + "04030201" + "52" + "00" + "0201" + "0d0c0b0a" + "14131211" + "24232221" + "00000000" +
      "eeeeee",
  );
});

Deno.test("decodeSegmentHeader() returns null with fewer than 24 bytes left", () => {
  assertEquals(decodeSegmentHeader(new Uint8Array(23), 0), null);
  assertEquals(decodeSegmentHeader(new Uint8Array(30), 7), null);
  assertEquals(decodeSegmentHeader(new Uint8Array(30), -1), null);
  assertEquals(decodeSegmentHeader(new Uint8Array(30), 6)?.len, 0);
});

Deno.test("readU16LE()/readU32LE() invert writeU16LE()/writeU32LE() at the extremes", () => {
  const buf = new Uint8Array(8);
  for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
    writeU32LE(buf, 2, v);
    assertEquals(readU32LE(buf, 2), v);
  }
  for (const v of [0, 1, 0x7fff, 0x8000, 0xffff]) {
    writeU16LE(buf, 5, v);
    assertEquals(readU16LE(buf, 5), v);
  }
  writeU16LE(buf, 0, 0x12345);
  assertEquals(readU16LE(buf, 0), 0x2345);
});

Deno.test("isKcpCmd() accepts exactly 81..84", () => {
  const accepted = [];
  for (let c = 0; c < 256; c++) if (isKcpCmd(c)) accepted.push(c);
  assertEquals(accepted, [KcpCmd.Push, KcpCmd.Ack, KcpCmd.WindowAsk, KcpCmd.WindowTell]);
  assertEquals(accepted, [81, 82, 83, 84]);
});

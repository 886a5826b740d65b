/**
 * The KCP segment wire format of skywind3000/kcp `ikcp.c` (also what kcp-go puts in a UDP datagram when FEC and
 * encryption are off): a 24-byte little-endian header, then `len` data bytes. A datagram is one or more segments
 * laid end to end.
 *
 * ```
 * offset  0    4    5    6    8    12   16   20   24
 *         conv cmd  frg  wnd  ts   sn   una  len  data…
 *         u32  u8   u8   u16  u32  u32  u32  u32
 * ```
 *
 * The hot-path helpers take `(buf, offset, …)` and return numbers; {@linkcode decodeSegmentHeader} allocates and is
 * meant for tools and tests.
 *
 * @module
 */

/** Bytes of a segment header (`IKCP_OVERHEAD`). */
export const KCP_OVERHEAD = 24;

/** Segment commands: the `cmd` byte at offset 4. */
export const KcpCmd = {
  /** Data (`IKCP_CMD_PUSH`). */
  Push: 81,
  /** Acknowledges one PUSH by `sn`, echoing its `ts` (`IKCP_CMD_ACK`). */
  Ack: 82,
  /** Window probe: asks the peer to tell its receive window (`IKCP_CMD_WASK`). */
  WindowAsk: 83,
  /** Window tell: carries the sender's receive window in `wnd` (`IKCP_CMD_WINS`). */
  WindowTell: 84,
} as const;

/** One of the values of {@linkcode KcpCmd}. */
export type KcpCmd = typeof KcpCmd[keyof typeof KcpCmd];

/** The decoded header of one segment. All numbers are unsigned. */
export interface KcpSegmentHeader {
  /** Conversation id; both ends use the same value. */
  conv: number;
  /** Command, one of {@linkcode KcpCmd} for a valid segment. */
  cmd: number;
  /** PUSH only: fragments that follow in this message (0 for the last one, and always 0 in stream mode). */
  frg: number;
  /** The sender's free receive window, in segments. */
  wnd: number;
  /** PUSH: send time of this transmission; ACK: the `ts` of the PUSH being acknowledged. */
  ts: number;
  /** PUSH: sequence number; ACK: the `sn` being acknowledged. */
  sn: number;
  /** The sender's next expected `sn`: everything below it has been received. */
  una: number;
  /** Data bytes that follow the header. */
  len: number;
}

/**
 * Whether `cmd` is one of the four commands a KCP endpoint accepts.
 *
 * @param cmd The `cmd` byte.
 * @returns `true` for 81, 82, 83 and 84.
 *
 * @example Reject an unknown command
 * ```ts
 * import { isKcpCmd } from "./segment.ts";
 * console.log(isKcpCmd(81), isKcpCmd(80)); // true false
 * ```
 */
export function isKcpCmd(cmd: number): cmd is KcpCmd {
  return cmd >= KcpCmd.Push && cmd <= KcpCmd.WindowTell;
}

/**
 * Reads a little-endian u16. The caller guarantees `buf.length >= offset + 2`.
 *
 * @param buf The bytes.
 * @param offset Where the value starts.
 * @returns The value, 0..65535.
 *
 * @example Read the `wnd` field
 * ```ts
 * import { readU16LE } from "./segment.ts";
 * console.log(readU16LE(new Uint8Array([0x80, 0x00]), 0)); // 128
 * ```
 */
export function readU16LE(buf: Uint8Array, offset: number): number {
  return buf[offset] | (buf[offset + 1] << 8);
}

/**
 * Reads a little-endian u32. The caller guarantees `buf.length >= offset + 4`.
 *
 * @param buf The bytes.
 * @param offset Where the value starts.
 * @returns The value, 0..2^32-1.
 *
 * @example Read a `conv`
 * ```ts
 * import { readU32LE } from "./segment.ts";
 * console.log(readU32LE(new Uint8Array([0x44, 0x33, 0x22, 0x11]), 0).toString(16)); // 11223344
 * ```
 */
export function readU32LE(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
}

/**
 * Writes a little-endian u16 (the low 16 bits of `value`). The caller guarantees room for 2 bytes.
 *
 * @param buf The destination.
 * @param offset Where the value goes.
 * @param value The value; higher bits are dropped.
 *
 * @example Write a window size
 * ```ts
 * import { writeU16LE } from "./segment.ts";
 * const buf = new Uint8Array(2);
 * writeU16LE(buf, 0, 0x0102);
 * console.log(buf); // Uint8Array(2) [ 2, 1 ]
 * ```
 */
export function writeU16LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value;
  buf[offset + 1] = value >>> 8;
}

/**
 * Writes a little-endian u32 (the low 32 bits of `value`). The caller guarantees room for 4 bytes.
 *
 * @param buf The destination.
 * @param offset Where the value goes.
 * @param value The value; higher bits are dropped.
 *
 * @example Write a sequence number
 * ```ts
 * import { writeU32LE } from "./segment.ts";
 * const buf = new Uint8Array(4);
 * writeU32LE(buf, 0, 0x11121314);
 * console.log(buf); // Uint8Array(4) [ 20, 19, 18, 17 ]
 * ```
 */
export function writeU32LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value;
  buf[offset + 1] = value >>> 8;
  buf[offset + 2] = value >>> 16;
  buf[offset + 3] = value >>> 24;
}

/**
 * Encodes a segment header at `offset` (as `ikcp_encode_seg`). The caller guarantees room for
 * {@linkcode KCP_OVERHEAD} bytes and writes the `len` data bytes after it.
 *
 * @param buf The destination.
 * @param offset Where the header goes.
 * @param conv Conversation id (u32).
 * @param cmd Command (u8), one of {@linkcode KcpCmd}.
 * @param frg Fragments that follow (u8).
 * @param wnd Free receive window (u16).
 * @param ts Timestamp (u32).
 * @param sn Sequence number (u32).
 * @param una Next expected sequence number (u32).
 * @param len Data bytes that follow (u32).
 * @returns The offset just past the header (`offset + 24`).
 *
 * @example Encode an ACK
 * ```ts
 * import { encodeSegmentHeader, KcpCmd } from "./segment.ts";
 * const buf = new Uint8Array(24);
 * encodeSegmentHeader(buf, 0, 0x01020304, KcpCmd.Ack, 0, 0x0102, 0x0a0b0c0d, 0x11121314, 0x21222324, 0);
 * console.log(buf.subarray(0, 6)); // Uint8Array(6) [ 4, 3, 2, 1, 82, 0 ]
 * ```
 */
export function encodeSegmentHeader(
  buf: Uint8Array,
  offset: number,
  conv: number,
  cmd: number,
  frg: number,
  wnd: number,
  ts: number,
  sn: number,
  una: number,
  len: number,
): number {
  writeU32LE(buf, offset, conv);
  buf[offset + 4] = cmd;
  buf[offset + 5] = frg;
  writeU16LE(buf, offset + 6, wnd);
  writeU32LE(buf, offset + 8, ts);
  writeU32LE(buf, offset + 12, sn);
  writeU32LE(buf, offset + 16, una);
  writeU32LE(buf, offset + 20, len);
  return offset + KCP_OVERHEAD;
}

/**
 * Decodes the segment header at `offset`. It checks only that 24 bytes are there, not the command, the conv or
 * whether `len` data bytes follow: that is the job of `Kcp.input()`. Allocates; not for the hot path.
 *
 * @param buf The datagram.
 * @param offset Where the header starts.
 * @returns The header, or `null` when fewer than 24 bytes remain.
 *
 * @example Decode the first segment of a datagram
 * ```ts
 * import { decodeSegmentHeader } from "./segment.ts";
 * const header = decodeSegmentHeader(new Uint8Array(24), 0);
 * console.log(header?.cmd); // 0
 * ```
 */
export function decodeSegmentHeader(buf: Uint8Array, offset: number): KcpSegmentHeader | null {
  if (offset < 0 || buf.length - offset < KCP_OVERHEAD) return null;
  return {
    conv: readU32LE(buf, offset),
    cmd: buf[offset + 4],
    frg: buf[offset + 5],
    wnd: readU16LE(buf, offset + 6),
    ts: readU32LE(buf, offset + 8),
    sn: readU32LE(buf, offset + 12),
    una: readU32LE(buf, offset + 16),
    len: readU32LE(buf, offset + 20),
  };
}

/**
 * The conversation id of a datagram (`ikcp_getconv`): its first 4 bytes as a u32. A UDP gateway uses it to find
 * the session a datagram belongs to.
 *
 * @param datagram The received datagram.
 * @returns The conv, or -1 when the datagram is shorter than 4 bytes.
 *
 * @example Route a datagram
 * ```ts
 * import { readConv } from "./segment.ts";
 * console.log(readConv(new Uint8Array([1, 0, 0, 0, 81])), readConv(new Uint8Array(3))); // 1 -1
 * ```
 */
export function readConv(datagram: Uint8Array): number {
  return datagram.length < 4 ? -1 : readU32LE(datagram, 0);
}

/**
 * Reads of whole datagrams that a KCP gateway and client route on, before (or instead of) handing them to
 * `Kcp.input()`: may this datagram open a session, does it carry something to acknowledge, are its sequence numbers
 * small. They walk the segment headers in place and allocate nothing.
 *
 * @module
 */

import { readU32 } from "../../../core/packet.ts";
import { isKcpCmd, KCP_OVERHEAD, KcpCmd, readU32LE } from "./segment.ts";

/**
 * Whether `datagram` may open a KCP session of due's client protocol: every segment carries `conv` and a known
 * command, no segment is longer than `mss` or than the bytes left, nothing trails, and one PUSH is the very first
 * segment of the stream (`sn` 0, `una` 0, `frg` 0) whose data starts with a client packet size of at most `maxSize`.
 * Garbage, a stray ACK, or a late segment of a session already gone all fail it.
 *
 * @param datagram The received datagram.
 * @param conv Its conv (the first 4 bytes).
 * @param mss Largest segment data the server accepts (`mtu - 24`).
 * @param little Byte order of the client packet size.
 * @param maxSize Largest client packet size accepted (`PacketFormat.maxSize`).
 * @returns Whether a session may be created for it.
 *
 * @example
 * ```ts
 * import { encodeSegmentHeader, isSessionOpener, KcpCmd } from "./mod.ts";
 * const opener = new Uint8Array(28); // one PUSH, sn 0, carrying the no-op packet 00 00 00 00
 * encodeSegmentHeader(opener, 0, 9, KcpCmd.Push, 0, 256, 0, 0, 0, 4);
 * console.log(isSessionOpener(opener, 9, 1376, false, 5000)); // true
 * encodeSegmentHeader(opener, 0, 9, KcpCmd.Push, 0, 256, 0, 5, 0, 4); // sn 5: a late segment
 * console.log(isSessionOpener(opener, 9, 1376, false, 5000)); // false
 * ```
 */
export function isSessionOpener(
  datagram: Uint8Array,
  conv: number,
  mss: number,
  little: boolean,
  maxSize: number,
): boolean {
  const end = datagram.length;
  let off = 0;
  let opens = false;
  while (end - off >= KCP_OVERHEAD) {
    const cmd = datagram[off + 4];
    const len = readU32LE(datagram, off + 20);
    if (readU32LE(datagram, off) !== conv || !isKcpCmd(cmd) || len > mss || len > end - off - KCP_OVERHEAD) {
      return false;
    }
    if (
      cmd === KcpCmd.Push && readU32LE(datagram, off + 12) === 0 && readU32LE(datagram, off + 16) === 0 &&
      datagram[off + 5] === 0 && len >= 4 && readU32(datagram, off + KCP_OVERHEAD, little) <= maxSize
    ) {
      opens = true;
    }
    off += KCP_OVERHEAD + len;
  }
  return opens && off === end;
}

/**
 * Whether every PUSH segment of `datagram` has an `sn` below `limit` (unsigned). A gateway applies it to sessions
 * not admitted yet, so that what they buffer stays small.
 *
 * @param datagram The received datagram.
 * @param limit The first `sn` refused.
 * @returns `false` if some PUSH has `sn >= limit`.
 *
 * @example
 * ```ts
 * import { encodeSegmentHeader, KcpCmd, pushesBelow } from "./mod.ts";
 * const push = new Uint8Array(24);
 * encodeSegmentHeader(push, 0, 9, KcpCmd.Push, 0, 256, 0, 40, 0, 0);
 * console.log(pushesBelow(push, 32)); // false
 * ```
 */
export function pushesBelow(datagram: Uint8Array, limit: number): boolean {
  const end = datagram.length;
  let off = 0;
  while (end - off >= KCP_OVERHEAD) {
    if (datagram[off + 4] === KcpCmd.Push && readU32LE(datagram, off + 12) >= limit) return false;
    off += KCP_OVERHEAD + readU32LE(datagram, off + 20);
  }
  return true;
}

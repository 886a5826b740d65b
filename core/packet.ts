/**
 * The client packet protocol (PROTOCOL.md §1), byte for byte compatible with due v2.5:
 *
 * ```
 * data packet:      | size u32 | header u8 | route (1|2|4, signed) | seq (0|1|2|4, signed) | payload |
 * heartbeat packet: | size u32 | header u8 | [server time, i64 ns since the Unix epoch, downlink only] |
 * ```
 *
 * Hot-path readers take `(buf, offset)` and return numbers: no object, tuple or DataView per packet.
 *
 * @module
 */

import { allocBytes, utf8EncodeAfter } from "./bytes.ts";

/** Byte order of size, route, seq and heartbeat time. */
export type ByteOrder = "big" | "little";

/** The packet layout shared by clients, gates and nodes (`packet.*` in config). */
export interface PacketOptions {
  /** Byte order of size, route, seq and time. @default "big" */
  byteOrder: ByteOrder;
  /** Bytes of the signed route field: 1, 2 or 4. @default 2 */
  routeBytes: 1 | 2 | 4;
  /** Bytes of the signed seq field: 0 (absent), 1, 2 or 4. @default 2 */
  seqBytes: 0 | 1 | 2 | 4;
  /** Largest payload accepted or sent, in bytes. @default 5000 */
  bufferBytes: number;
  /** Whether the server's heartbeats carry its clock (i64 ns). @default false */
  heartbeatTime: boolean;
}

/** due's packet defaults. */
export const DEFAULT_PACKET_OPTIONS: Readonly<PacketOptions> = Object.freeze({
  byteOrder: "big",
  routeBytes: 2,
  seqBytes: 2,
  bufferBytes: 5000,
  heartbeatTime: false,
});

/** The header byte of a heartbeat; data packets carry 0x00. */
export const HEARTBEAT_BIT = 0x80;
/** Bytes of the size prefix. */
export const SIZE_BYTES = 4;

/**
 * A resolved packet layout: the options plus what every reader needs precomputed. Build once with
 * {@linkcode createPacketFormat}, share everywhere.
 */
export interface PacketFormat extends Readonly<PacketOptions> {
  /** `byteOrder === "little"`. */
  readonly little: boolean;
  /** Bytes of header + route + seq: the smallest valid `size` of a data packet. */
  readonly dataHeaderBytes: number;
  /** Largest `size` field accepted: `dataHeaderBytes + bufferBytes` (heartbeats are smaller). */
  readonly maxSize: number;
  /** Smallest route that fits. */
  readonly minRoute: number;
  /** Largest route that fits. */
  readonly maxRoute: number;
  /** Largest seq that fits (0 when `seqBytes` is 0). */
  readonly maxSeq: number;
}

const ROUTE_BYTES = [1, 2, 4];
const SEQ_BYTES = [0, 1, 2, 4];

/**
 * Validates packet options and precomputes the layout.
 *
 * @throws {RangeError} when an option is outside its allowed set
 * @example
 * ```ts
 * import { createPacketFormat } from "./packet.ts";
 * const format = createPacketFormat({ routeBytes: 4, seqBytes: 4 });
 * console.assert(format.dataHeaderBytes === 9);
 * ```
 */
export function createPacketFormat(options: Partial<PacketOptions> = {}): PacketFormat {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { byteOrder, routeBytes, seqBytes, bufferBytes, heartbeatTime } = {
    ...DEFAULT_PACKET_OPTIONS,
    ...defined,
  };
  if (byteOrder !== "big" && byteOrder !== "little") {
    throw new RangeError(
      `Cannot use packet format as 'byteOrder' must be "big" or "little": current value is ${
        JSON.stringify(byteOrder)
      }`,
    );
  }
  if (!ROUTE_BYTES.includes(routeBytes)) {
    throw new RangeError(
      `Cannot use packet format as 'routeBytes' must be 1, 2 or 4: current value is ${routeBytes}`,
    );
  }
  if (!SEQ_BYTES.includes(seqBytes)) {
    throw new RangeError(
      `Cannot use packet format as 'seqBytes' must be 0, 1, 2 or 4: current value is ${seqBytes}`,
    );
  }
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > 0x7fff_ffff) {
    throw new RangeError(
      `Cannot use packet format as 'bufferBytes' must be a non-negative integer: current value is ${bufferBytes}`,
    );
  }
  const dataHeaderBytes = 1 + routeBytes + seqBytes;
  return Object.freeze({
    byteOrder,
    routeBytes,
    seqBytes,
    bufferBytes,
    heartbeatTime: Boolean(heartbeatTime),
    little: byteOrder === "little",
    dataHeaderBytes,
    maxSize: dataHeaderBytes + bufferBytes,
    minRoute: -(2 ** (routeBytes * 8 - 1)),
    maxRoute: 2 ** (routeBytes * 8 - 1) - 1,
    maxSeq: seqBytes === 0 ? 0 : 2 ** (seqBytes * 8 - 1) - 1,
  });
}

// ---- integer readers and writers (no DataView on the hot path) --------------------------------------------------

/** Reads an unsigned 32-bit integer. */
export function readU32(buf: Uint8Array, off: number, little: boolean): number {
  return little
    ? (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0
    : ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes an unsigned 32-bit integer. */
export function writeU32(buf: Uint8Array, off: number, value: number, little: boolean): void {
  if (little) {
    buf[off] = value;
    buf[off + 1] = value >>> 8;
    buf[off + 2] = value >>> 16;
    buf[off + 3] = value >>> 24;
  } else {
    buf[off] = value >>> 24;
    buf[off + 1] = value >>> 16;
    buf[off + 2] = value >>> 8;
    buf[off + 3] = value;
  }
}

/** Reads a signed integer of 1, 2 or 4 bytes. */
function readInt(buf: Uint8Array, off: number, bytes: number, little: boolean): number {
  switch (bytes) {
    case 1:
      return (buf[off] << 24) >> 24;
    case 2:
      return little
        ? ((buf[off] | (buf[off + 1] << 8)) << 16) >> 16
        : (((buf[off] << 8) | buf[off + 1]) << 16) >> 16;
    case 4:
      return little
        ? buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)
        : (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
    default:
      return 0;
  }
}

/** Writes a signed integer of 1, 2 or 4 bytes (the caller checks the range). */
function writeInt(buf: Uint8Array, off: number, value: number, bytes: number, little: boolean): void {
  switch (bytes) {
    case 1:
      buf[off] = value;
      return;
    case 2:
      if (little) {
        buf[off] = value;
        buf[off + 1] = value >> 8;
      } else {
        buf[off] = value >> 8;
        buf[off + 1] = value;
      }
      return;
    case 4:
      writeU32(buf, off, value >>> 0, little);
  }
}

// ---- reading packets ---------------------------------------------------------------------------------------------

/** What a complete packet is, as told by {@linkcode classifyPacket}. */
export const PacketKind = {
  /** `size` is 0: a no-op, ignored. */
  Noop: 0,
  /** A heartbeat. */
  Heartbeat: 1,
  /** A data packet with a route (and seq). */
  Data: 2,
  /** Too short for its header: close the connection. */
  Invalid: -1,
} as const;
/** One of the values of {@linkcode PacketKind}. */
export type PacketKind = typeof PacketKind[keyof typeof PacketKind];

/**
 * Classifies the complete packet of `length` bytes (size prefix included) at `off`.
 * The caller has framed it, so `size === length - 4` holds.
 */
export function classifyPacket(
  format: PacketFormat,
  buf: Uint8Array,
  off: number,
  length: number,
): PacketKind {
  if (length === SIZE_BYTES) return PacketKind.Noop;
  if ((buf[off + SIZE_BYTES] & HEARTBEAT_BIT) !== 0) return PacketKind.Heartbeat;
  return length - SIZE_BYTES >= format.dataHeaderBytes ? PacketKind.Data : PacketKind.Invalid;
}

/** The route of the data packet at `off`. */
export function readRoute(format: PacketFormat, buf: Uint8Array, off: number): number {
  return readInt(buf, off + 5, format.routeBytes, format.little);
}

/** The seq of the data packet at `off` (0 when the format has no seq). */
export function readSeq(format: PacketFormat, buf: Uint8Array, off: number): number {
  return format.seqBytes === 0
    ? 0
    : readInt(buf, off + 5 + format.routeBytes, format.seqBytes, format.little);
}

/** A decoded packet, for clients, tools and tests (the server's hot path reads fields in place). */
export type DecodedPacket =
  | {
    kind: "heartbeat"; /** Server time in ns since the epoch, when the packet carries one. */
    timeNs?: bigint;
  }
  | {
    kind: "data";
    route: number;
    seq: number; /** A view into the input, not a copy. */
    payload: Uint8Array;
  };

/**
 * Decodes one complete packet (size prefix included).
 *
 * @throws {SyntaxError} when the packet is malformed (size disagrees with the length, too short)
 * @returns the packet, or `undefined` for a size-0 no-op
 */
export function decodePacket(format: PacketFormat, packet: Uint8Array): DecodedPacket | undefined {
  if (packet.length < SIZE_BYTES) {
    throw new SyntaxError(`Cannot decode packet: ${packet.length} bytes is shorter than the size prefix`);
  }
  const size = readU32(packet, 0, format.little);
  if (size !== packet.length - SIZE_BYTES) {
    throw new SyntaxError(
      `Cannot decode packet: size field ${size} disagrees with ${packet.length - SIZE_BYTES} bytes after it`,
    );
  }
  switch (classifyPacket(format, packet, 0, packet.length)) {
    case PacketKind.Noop:
      return undefined;
    case PacketKind.Heartbeat:
      return size >= 9
        ? {
          kind: "heartbeat",
          timeNs: new DataView(packet.buffer, packet.byteOffset + 5, 8).getBigInt64(0, format.little),
        }
        : { kind: "heartbeat" };
    case PacketKind.Data:
      return {
        kind: "data",
        route: readRoute(format, packet, 0),
        seq: readSeq(format, packet, 0),
        payload: packet.subarray(SIZE_BYTES + format.dataHeaderBytes),
      };
    default:
      throw new SyntaxError(
        `Cannot decode packet: size ${size} is shorter than the data header of ${format.dataHeaderBytes} bytes`,
      );
  }
}

// ---- writing packets ---------------------------------------------------------------------------------------------

/**
 * Writes a data packet's size, header, route and seq at `off` of `out` for a payload of `payloadBytes` bytes.
 * The payload itself goes at `off + 4 + format.dataHeaderBytes`. Returns the packet's total length.
 */
export function writeDataHeader(
  format: PacketFormat,
  out: Uint8Array,
  off: number,
  route: number,
  seq: number,
  payloadBytes: number,
): number {
  const size = format.dataHeaderBytes + payloadBytes;
  writeU32(out, off, size, format.little);
  out[off + 4] = 0;
  writeInt(out, off + 5, route, format.routeBytes, format.little);
  if (format.seqBytes !== 0) writeInt(out, off + 5 + format.routeBytes, seq, format.seqBytes, format.little);
  return SIZE_BYTES + size;
}

/** Throws a `RangeError` when `route`, `seq` or a payload of `payloadBytes` does not fit the format. */
function checkMessage(format: PacketFormat, route: number, seq: number, payloadBytes: number): void {
  if (!Number.isInteger(route) || route < format.minRoute || route > format.maxRoute) {
    throw new RangeError(
      `Cannot pack message as 'route' must be an integer in [${format.minRoute}, ${format.maxRoute}]: current value is ${route}`,
    );
  }
  if (
    !Number.isInteger(seq) || seq < -format.maxSeq - 1 || seq > format.maxSeq ||
    (format.seqBytes === 0 && seq !== 0)
  ) {
    throw new RangeError(
      `Cannot pack message as 'seq' must be an integer in [${
        format.seqBytes ? -format.maxSeq - 1 : 0
      }, ${format.maxSeq}]: current value is ${seq}`,
    );
  }
  if (payloadBytes > format.bufferBytes) {
    throw new RangeError(
      `Cannot pack message as the payload must be at most ${format.bufferBytes} bytes (packet.bufferBytes): current size is ${payloadBytes}`,
    );
  }
}

/**
 * Encodes a data packet.
 *
 * The packet is cut from a shared slab when small (see `core/bytes.ts`).
 *
 * @throws {RangeError} when route or seq do not fit, or the payload exceeds `bufferBytes`
 * @example The worked example of PROTOCOL.md §1
 * ```ts
 * import { createPacketFormat, encodeMessage } from "./packet.ts";
 * const packet = encodeMessage(createPacketFormat(), 1, 7, new TextEncoder().encode('{"message":"hi"}'));
 * console.assert(packet.length === 25 && packet[3] === 0x15);
 * ```
 */
export function encodeMessage(
  format: PacketFormat,
  route: number,
  seq: number,
  payload?: Uint8Array,
): Uint8Array {
  const payloadBytes = payload?.length ?? 0;
  checkMessage(format, route, seq, payloadBytes);
  const out = allocBytes(SIZE_BYTES + format.dataHeaderBytes + payloadBytes);
  writeDataHeader(format, out, 0, route, seq, payloadBytes);
  if (payload) out.set(payload, SIZE_BYTES + format.dataHeaderBytes);
  return out;
}

/**
 * Encodes a data packet whose payload is `text` in UTF-8, written straight behind the header: the payload gets no
 * buffer of its own (see {@linkcode utf8EncodeAfter}).
 *
 * @throws {RangeError} when route or seq do not fit the format, or the payload is over the format's limit
 */
export function encodeTextMessage(
  format: PacketFormat,
  route: number,
  seq: number,
  text: string,
): Uint8Array {
  const headerBytes = SIZE_BYTES + format.dataHeaderBytes;
  const out = utf8EncodeAfter(headerBytes, text);
  const payloadBytes = out.length - headerBytes;
  checkMessage(format, route, seq, payloadBytes);
  writeDataHeader(format, out, 0, route, seq, payloadBytes);
  return out;
}

/** The 5-byte heartbeat every sender may use: `00 00 00 01 80` (or `01 00 00 00 80` little endian). */
export function encodeHeartbeat(format: PacketFormat): Uint8Array {
  const out = new Uint8Array(5);
  writeU32(out, 0, 1, format.little);
  out[4] = HEARTBEAT_BIT;
  return out;
}

/** A server heartbeat carrying `timeNs` (ns since the epoch): `00 00 00 09 80` + i64. */
export function encodeTimedHeartbeat(format: PacketFormat, timeNs: bigint): Uint8Array {
  const out = new Uint8Array(13);
  writeU32(out, 0, 9, format.little);
  out[4] = HEARTBEAT_BIT;
  new DataView(out.buffer).setBigInt64(5, timeNs, format.little);
  return out;
}

/** The current time in ns since the epoch, as heartbeats carry it. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/**
 * Encoders and decoders of the cluster protocol ("drpc", PROTOCOL.md §2 and `docs/protocol.md` §2), byte for
 * byte compatible with due v2.5 for routes 1–17, plus our own routes from 18 on:
 *
 * ```
 * | size u32 (= bytes after it) | header u8 | route u8 | seq u64 | body |      always big endian
 * ```
 *
 * This file is longer than ~400 lines on purpose: it is the whole wire table in one place, one small encoder and
 * one decoder per route, meant to be read side by side with the table in `docs/protocol.md` §2.
 *
 * Hot path: {@linkcode writeDeliver} and {@linkcode writePush} write a frame straight into a caller's buffer at an
 * offset (the client packet is copied once, into the connection's write buffer); the server reads their fields in
 * place with {@linkcode readI64}. Every other route has an `encodeXxx` returning a fresh frame, and requests are
 * decoded by {@linkcode decodeRequest}. Decoders return subarrays of the frame, never copies: a caller that keeps
 * bytes beyond the frame's lifetime copies them.
 *
 * Seqs are numbers up to 2^53 − 1 written as u64; a received seq above that is refused (-1). i64 fields are
 * numbers too; a received i64 outside the safe integer range makes the request malformed.
 *
 * @module
 */

/** Cluster routes (the route byte of a frame). */
export const Route = {
  Handshake: 1,
  Bind: 2,
  Unbind: 3,
  GetIP: 4,
  Stat: 5,
  IsOnline: 6,
  Disconnect: 7,
  Push: 8,
  Multicast: 9,
  Broadcast: 10,
  Publish: 11,
  Subscribe: 12,
  Unsubscribe: 13,
  Trigger: 14,
  Deliver: 15,
  GetState: 16,
  SetState: 17,
  /** Ours: a mesh service call (service, method, codec, args) answered with a result or an error. */
  MeshCall: 18,
} as const;
/** One of the values of {@linkcode Route}. */
export type Route = typeof Route[keyof typeof Route];

/** Route number → name, for logs. */
export const ROUTE_NAMES: Readonly<Record<Route, string>> = {
  1: "Handshake",
  2: "Bind",
  3: "Unbind",
  4: "GetIP",
  5: "Stat",
  6: "IsOnline",
  7: "Disconnect",
  8: "Push",
  9: "Multicast",
  10: "Broadcast",
  11: "Publish",
  12: "Subscribe",
  13: "Unsubscribe",
  14: "Trigger",
  15: "Deliver",
  16: "GetState",
  17: "SetState",
  18: "MeshCall",
};

/** Response codes: the first two bytes of every response body. */
export const Code = { OK: 0, NotFoundSession: 1, InternalError: 2 } as const;
/** One of the values of {@linkcode Code}. */
export type Code = typeof Code[keyof typeof Code];

/** Bits of the header byte. */
export const HeaderBit = {
  /** A data frame. */
  Data: 0x00,
  /** Close the target connection(s) after writing (Push, Multicast, Broadcast, Publish). */
  Disconnect: 0x40,
  /** A heartbeat: the frame is exactly `00 00 00 01 80`. */
  Heartbeat: 0x80,
} as const;

/** Bytes of the size prefix. */
export const SIZE_BYTES: number = 4;
/** Bytes before the body: size u32, header u8, route u8, seq u64. */
export const FRAME_HEAD_BYTES: number = 14;
/** Bytes of a response code. */
export const CODE_BYTES: number = 2;
/** Largest seq: seqs are numbers and wrap to 1 past this. */
export const MAX_SEQ: number = Number.MAX_SAFE_INTEGER;
/** Most targets one Multicast, Subscribe or Unsubscribe frame carries (u16 count). */
export const MAX_TARGETS_PER_FRAME: number = 0xffff;
/** Longest channel name of a Publish, in UTF-8 bytes (u8 length). */
export const MAX_CHANNEL_BYTES: number = 0xff;
/** Longest service, method or codec name of a MeshCall, in UTF-8 bytes (u8 length). */
export const MAX_NAME_BYTES: number = 0xff;
/** The heartbeat frame. Shared: do not modify. */
export const HEARTBEAT_FRAME: Uint8Array = Uint8Array.of(0, 0, 0, 1, HeaderBit.Heartbeat);

/** Bytes of a Deliver frame before the client packet: head, cid i64, uid i64. */
export const DELIVER_HEAD_BYTES: number = FRAME_HEAD_BYTES + 16;
/** Bytes of a Push frame before the client packet: head, kind u8, target i64. */
export const PUSH_HEAD_BYTES: number = FRAME_HEAD_BYTES + 9;

const TWO_32 = 4294967296;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

// ---- integers (big endian, no DataView) -------------------------------------------------------------------------
// Big-endian copies of core/packet.ts's readU32/writeU32 on purpose: calling those with `little` false made
// writeDeliver ~1.6× as slow when measured here (a larger callee, inlined less deep down writeHead → writeU64).

/** Writes an unsigned 32-bit integer, big endian. */
export function writeU32(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value >>> 24;
  buf[off + 1] = value >>> 16;
  buf[off + 2] = value >>> 8;
  buf[off + 3] = value;
}

/** Reads an unsigned 32-bit integer, big endian. */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes a non-negative safe integer as u64, big endian. */
export function writeU64(buf: Uint8Array, off: number, value: number): void {
  writeU32(buf, off, Math.floor(value / TWO_32));
  writeU32(buf, off + 4, value >>> 0);
}

/** Reads a u64, big endian; -1 when it is above 2^53 − 1. */
export function readU64(buf: Uint8Array, off: number): number {
  const hi = readU32(buf, off);
  if (hi > 0x1fffff) return -1;
  return hi * TWO_32 + readU32(buf, off + 4);
}

/** Writes a safe integer as i64 (two's complement), big endian. */
export function writeI64(buf: Uint8Array, off: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  writeU32(buf, off, hi);
  writeU32(buf, off + 4, value - hi * TWO_32);
}

/** Reads an i64, big endian; `NaN` when it is outside the safe integer range. */
export function readI64(buf: Uint8Array, off: number): number {
  const hi = (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
  const value = hi * TWO_32 + readU32(buf, off + 4);
  return Number.isSafeInteger(value) ? value : NaN;
}

/** Reads a u16, big endian. */
function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Writes a u16, big endian. */
function writeU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value >>> 8;
  buf[off + 1] = value;
}

// ---- frame head ------------------------------------------------------------------------------------------------

/**
 * Writes the head of a frame of `total` bytes (size prefix included) at `off`; returns the offset of the body.
 */
export function writeHead(
  buf: Uint8Array,
  off: number,
  total: number,
  header: number,
  route: number,
  seq: number,
): number {
  writeU32(buf, off, total - SIZE_BYTES);
  buf[off + 4] = header;
  buf[off + 5] = route;
  writeU64(buf, off + 6, seq);
  return off + FRAME_HEAD_BYTES;
}

/** The header byte of a frame. */
export function frameHeader(frame: Uint8Array): number {
  return frame[4];
}

/** The route byte of a data frame. */
export function frameRoute(frame: Uint8Array): number {
  return frame[5];
}

/** The seq of a data frame; -1 when it is above 2^53 − 1. */
export function frameSeq(frame: Uint8Array): number {
  return readU64(frame, 6);
}

/** The next seq after `seq` for calls: 2, 3, … up to {@linkcode MAX_SEQ}, then 2 again (1 is the handshake's). */
export function nextSeq(seq: number): number {
  return seq >= MAX_SEQ ? 2 : seq + 1;
}

function frame(bodyBytes: number, header: number, route: number, seq: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEAD_BYTES + bodyBytes);
  writeHead(out, 0, out.length, header, route, seq);
  return out;
}

function flags(disconnect: boolean | undefined): number {
  return disconnect ? HeaderBit.Disconnect : HeaderBit.Data;
}

function writeTargets(out: Uint8Array, off: number, targets: readonly number[]): number {
  writeU16(out, off, targets.length);
  off += 2;
  for (const target of targets) {
    writeI64(out, off, target);
    off += 8;
  }
  return off;
}

function checkTargets(what: string, targets: readonly number[]): void {
  if (targets.length > MAX_TARGETS_PER_FRAME) {
    throw new RangeError(
      `Cannot encode ${what} as one frame carries at most ${MAX_TARGETS_PER_FRAME} targets: current count is ${targets.length}`,
    );
  }
}

function shortString(what: string, value: string, max: number): Uint8Array {
  const bytes = utf8.encode(value);
  if (bytes.length > max) {
    throw new RangeError(
      `Cannot encode ${what} as it must be at most ${max} UTF-8 bytes: current length is ${bytes.length}`,
    );
  }
  return bytes;
}

// ---- requests: encoders -----------------------------------------------------------------------------------------

/** Handshake (route 1): the dialer's kind (gate 1, node 2, mesh 3) and instance id. Sent first, with seq 1. */
export function encodeHandshake(seq: number, kind: number, id: string): Uint8Array {
  const idBytes = utf8.encode(id);
  const out = frame(1 + idBytes.length, HeaderBit.Data, Route.Handshake, seq);
  out[FRAME_HEAD_BYTES] = kind;
  out.set(idBytes, FRAME_HEAD_BYTES + 1);
  return out;
}

/** Bytes of a Bind frame. */
export const BIND_BYTES: number = FRAME_HEAD_BYTES + 16;
/** Bytes of an Unbind frame. */
export const UNBIND_BYTES: number = FRAME_HEAD_BYTES + 8;
/** Bytes of a GetIP or IsOnline frame. */
export const SESSION_QUERY_BYTES: number = FRAME_HEAD_BYTES + 9;
/** Bytes of a Stat frame. */
export const STAT_BYTES: number = FRAME_HEAD_BYTES + 1;
/** Bytes of a Disconnect frame. */
export const DISCONNECT_BYTES: number = FRAME_HEAD_BYTES + 10;
/** Bytes of a GetState frame. */
export const GET_STATE_BYTES: number = FRAME_HEAD_BYTES;
/** Bytes of a SetState frame. */
export const SET_STATE_BYTES: number = FRAME_HEAD_BYTES + 1;

/** Bind (route 2) at `off` ({@linkcode BIND_BYTES} free): cid i64, uid i64. Returns the offset after it. */
export function writeBind(buf: Uint8Array, off: number, seq: number, cid: number, uid: number): number {
  const body = writeHead(buf, off, BIND_BYTES, HeaderBit.Data, Route.Bind, seq);
  writeI64(buf, body, cid);
  writeI64(buf, body + 8, uid);
  return body + 16;
}

/** Bind (route 2): cid i64, uid i64. */
export function encodeBind(seq: number, cid: number, uid: number): Uint8Array {
  const out = new Uint8Array(BIND_BYTES);
  writeBind(out, 0, seq, cid, uid);
  return out;
}

/** Unbind (route 3) at `off` ({@linkcode UNBIND_BYTES} free): uid i64. Returns the offset after it. */
export function writeUnbind(buf: Uint8Array, off: number, seq: number, uid: number): number {
  const body = writeHead(buf, off, UNBIND_BYTES, HeaderBit.Data, Route.Unbind, seq);
  writeI64(buf, body, uid);
  return body + 8;
}

/** Unbind (route 3): uid i64. */
export function encodeUnbind(seq: number, uid: number): Uint8Array {
  const out = new Uint8Array(UNBIND_BYTES);
  writeUnbind(out, 0, seq, uid);
  return out;
}

/**
 * GetIP (route 4) or IsOnline (route 6) at `off` ({@linkcode SESSION_QUERY_BYTES} free): session kind u8,
 * target i64. Returns the offset after it.
 */
export function writeSessionQuery(
  buf: Uint8Array,
  off: number,
  route: typeof Route.GetIP | typeof Route.IsOnline,
  seq: number,
  kind: number,
  target: number,
): number {
  const body = writeHead(buf, off, SESSION_QUERY_BYTES, HeaderBit.Data, route, seq);
  buf[body] = kind;
  writeI64(buf, body + 1, target);
  return body + 9;
}

/** GetIP (route 4) or IsOnline (route 6): session kind u8, target i64. */
export function encodeSessionQuery(
  route: typeof Route.GetIP | typeof Route.IsOnline,
  seq: number,
  kind: number,
  target: number,
): Uint8Array {
  const out = new Uint8Array(SESSION_QUERY_BYTES);
  writeSessionQuery(out, 0, route, seq, kind, target);
  return out;
}

/** Stat (route 5) at `off` ({@linkcode STAT_BYTES} free): session kind u8. Returns the offset after it. */
export function writeStat(buf: Uint8Array, off: number, seq: number, kind: number): number {
  const body = writeHead(buf, off, STAT_BYTES, HeaderBit.Data, Route.Stat, seq);
  buf[body] = kind;
  return body + 1;
}

/** Stat (route 5): session kind u8. */
export function encodeStat(seq: number, kind: number): Uint8Array {
  const out = new Uint8Array(STAT_BYTES);
  writeStat(out, 0, seq, kind);
  return out;
}

/**
 * Disconnect (route 7) at `off` ({@linkcode DISCONNECT_BYTES} free): session kind u8, target i64, force u8.
 * Returns the offset after it.
 */
export function writeDisconnect(
  buf: Uint8Array,
  off: number,
  seq: number,
  kind: number,
  target: number,
  force: boolean,
): number {
  const body = writeHead(buf, off, DISCONNECT_BYTES, HeaderBit.Data, Route.Disconnect, seq);
  buf[body] = kind;
  writeI64(buf, body + 1, target);
  buf[body + 9] = force ? 1 : 0;
  return body + 10;
}

/** Disconnect (route 7): session kind u8, target i64, force u8. */
export function encodeDisconnect(seq: number, kind: number, target: number, force: boolean): Uint8Array {
  const out = new Uint8Array(DISCONNECT_BYTES);
  writeDisconnect(out, 0, seq, kind, target, force);
  return out;
}

/**
 * Push (route 8), hot path: writes the frame at `off` of `buf` (which must have
 * {@linkcode PUSH_HEAD_BYTES} + `packet.length` bytes free there); returns the offset after it.
 */
export function writePush(
  buf: Uint8Array,
  off: number,
  seq: number,
  kind: number,
  target: number,
  packet: Uint8Array,
  disconnect: boolean | undefined,
): number {
  const body = writeHead(buf, off, PUSH_HEAD_BYTES + packet.length, flags(disconnect), Route.Push, seq);
  buf[body] = kind;
  writeI64(buf, body + 1, target);
  buf.set(packet, body + 9);
  return body + 9 + packet.length;
}

/** Push (route 8): session kind u8, target i64, client packet; header bit 0x40 = disconnect after writing. */
export function encodePush(
  seq: number,
  kind: number,
  target: number,
  packet: Uint8Array,
  disconnect?: boolean,
): Uint8Array {
  const out = new Uint8Array(PUSH_HEAD_BYTES + packet.length);
  writePush(out, 0, seq, kind, target, packet, disconnect);
  return out;
}

/** Multicast (route 9): session kind u8, count u16, targets i64 × count, client packet. */
export function encodeMulticast(
  seq: number,
  kind: number,
  targets: readonly number[],
  packet: Uint8Array,
  disconnect?: boolean,
): Uint8Array {
  checkTargets("multicast", targets);
  const out = frame(3 + 8 * targets.length + packet.length, flags(disconnect), Route.Multicast, seq);
  out[FRAME_HEAD_BYTES] = kind;
  out.set(packet, writeTargets(out, FRAME_HEAD_BYTES + 1, targets));
  return out;
}

/** Broadcast (route 10): session kind u8, client packet. */
export function encodeBroadcast(
  seq: number,
  kind: number,
  packet: Uint8Array,
  disconnect?: boolean,
): Uint8Array {
  const out = frame(1 + packet.length, flags(disconnect), Route.Broadcast, seq);
  out[FRAME_HEAD_BYTES] = kind;
  out.set(packet, FRAME_HEAD_BYTES + 1);
  return out;
}

/**
 * Publish (route 11): channel length u8, channel, client packet.
 *
 * @throws {RangeError} when the channel is longer than 255 UTF-8 bytes
 */
export function encodePublish(
  seq: number,
  channel: string,
  packet: Uint8Array,
  disconnect?: boolean,
): Uint8Array {
  const name = shortString("publish channel", channel, MAX_CHANNEL_BYTES);
  const out = frame(1 + name.length + packet.length, flags(disconnect), Route.Publish, seq);
  out[FRAME_HEAD_BYTES] = name.length;
  out.set(name, FRAME_HEAD_BYTES + 1);
  out.set(packet, FRAME_HEAD_BYTES + 1 + name.length);
  return out;
}

/** Subscribe (route 12) or Unsubscribe (route 13): session kind u8, count u16, targets i64 × count, channel. */
export function encodeSubscription(
  route: typeof Route.Subscribe | typeof Route.Unsubscribe,
  seq: number,
  kind: number,
  targets: readonly number[],
  channel: string,
): Uint8Array {
  checkTargets(route === Route.Subscribe ? "subscribe" : "unsubscribe", targets);
  const name = utf8.encode(channel);
  const out = frame(3 + 8 * targets.length + name.length, HeaderBit.Data, route, seq);
  out[FRAME_HEAD_BYTES] = kind;
  out.set(name, writeTargets(out, FRAME_HEAD_BYTES + 1, targets));
  return out;
}

/** Bytes of a Trigger frame: the uid is left out when it is 0. */
export function triggerBytes(uid: number): number {
  return FRAME_HEAD_BYTES + (uid === 0 ? 9 : 17);
}

/** Trigger (route 14), written at `off` of `buf` ({@linkcode triggerBytes} free); returns the offset after it. */
export function writeTrigger(
  buf: Uint8Array,
  off: number,
  seq: number,
  event: number,
  cid: number,
  uid: number,
): number {
  const body = writeHead(buf, off, triggerBytes(uid), HeaderBit.Data, Route.Trigger, seq);
  buf[body] = event;
  writeI64(buf, body + 1, cid);
  if (uid === 0) return body + 9;
  writeI64(buf, body + 9, uid);
  return body + 17;
}

/** Trigger (route 14): event u8 (connect 1, reconnect 2, disconnect 3), cid i64, uid i64 only if ≠ 0. */
export function encodeTrigger(seq: number, event: number, cid: number, uid: number): Uint8Array {
  const out = new Uint8Array(triggerBytes(uid));
  writeTrigger(out, 0, seq, event, cid, uid);
  return out;
}

/**
 * Deliver (route 15), hot path: writes the frame at `off` of `buf` (which must have
 * {@linkcode DELIVER_HEAD_BYTES} + `packet.length` bytes free there); returns the offset after it.
 */
export function writeDeliver(
  buf: Uint8Array,
  off: number,
  seq: number,
  cid: number,
  uid: number,
  packet: Uint8Array,
): number {
  const body = writeHead(buf, off, DELIVER_HEAD_BYTES + packet.length, HeaderBit.Data, Route.Deliver, seq);
  writeI64(buf, body, cid);
  writeI64(buf, body + 8, uid);
  buf.set(packet, body + 16);
  return body + 16 + packet.length;
}

/** Deliver (route 15): cid i64, uid i64, client packet. */
export function encodeDeliver(seq: number, cid: number, uid: number, packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(DELIVER_HEAD_BYTES + packet.length);
  writeDeliver(out, 0, seq, cid, uid, packet);
  return out;
}

/** GetState (route 16) at `off` ({@linkcode GET_STATE_BYTES} free): no body. Returns the offset after it. */
export function writeGetState(buf: Uint8Array, off: number, seq: number): number {
  return writeHead(buf, off, GET_STATE_BYTES, HeaderBit.Data, Route.GetState, seq);
}

/** GetState (route 16): no body. */
export function encodeGetState(seq: number): Uint8Array {
  const out = new Uint8Array(GET_STATE_BYTES);
  writeGetState(out, 0, seq);
  return out;
}

/** SetState (route 17) at `off` ({@linkcode SET_STATE_BYTES} free): state u8. Returns the offset after it. */
export function writeSetState(buf: Uint8Array, off: number, seq: number, state: number): number {
  const body = writeHead(buf, off, SET_STATE_BYTES, HeaderBit.Data, Route.SetState, seq);
  buf[body] = state;
  return body + 1;
}

/** SetState (route 17): state u8 (shut 0, work 1, busy 2, hang 3). */
export function encodeSetState(seq: number, state: number): Uint8Array {
  const out = new Uint8Array(SET_STATE_BYTES);
  writeSetState(out, 0, seq, state);
  return out;
}

/**
 * MeshCall (route 18, ours): service, method and codec names (each u8 length + UTF-8), then the encoded args.
 *
 * @throws {RangeError} when a name is longer than 255 UTF-8 bytes
 */
export function encodeMeshCall(
  seq: number,
  service: string,
  method: string,
  codec: string,
  args: Uint8Array,
): Uint8Array {
  const names = [
    shortString("mesh service name", service, MAX_NAME_BYTES),
    shortString("mesh method name", method, MAX_NAME_BYTES),
    shortString("codec name", codec, MAX_NAME_BYTES),
  ];
  const out = frame(
    3 + names[0].length + names[1].length + names[2].length + args.length,
    HeaderBit.Data,
    Route.MeshCall,
    seq,
  );
  let off = FRAME_HEAD_BYTES;
  for (const name of names) {
    out[off] = name.length;
    out.set(name, off + 1);
    off += 1 + name.length;
  }
  out.set(args, off);
  return out;
}

// ---- requests: decoder ------------------------------------------------------------------------------------------

/** A decoded request body. Byte fields are subarrays of the frame. */
export type DrpcRequest =
  | { route: typeof Route.Handshake; kind: 1 | 2 | 3; id: string }
  | { route: typeof Route.Bind; cid: number; uid: number }
  | { route: typeof Route.Unbind; uid: number }
  | { route: typeof Route.GetIP | typeof Route.IsOnline; kind: 1 | 2; target: number }
  | { route: typeof Route.Stat; kind: 1 | 2 }
  | { route: typeof Route.Disconnect; kind: 1 | 2; target: number; force: boolean }
  | { route: typeof Route.Push; kind: 1 | 2; target: number; packet: Uint8Array; disconnect: boolean }
  | {
    route: typeof Route.Multicast;
    kind: 1 | 2;
    targets: number[];
    packet: Uint8Array;
    disconnect: boolean;
  }
  | { route: typeof Route.Broadcast; kind: 1 | 2; packet: Uint8Array; disconnect: boolean }
  | { route: typeof Route.Publish; channel: string; packet: Uint8Array; disconnect: boolean }
  | {
    route: typeof Route.Subscribe | typeof Route.Unsubscribe;
    kind: 1 | 2;
    targets: number[];
    channel: string;
  }
  | { route: typeof Route.Trigger; event: 1 | 2 | 3; cid: number; uid: number }
  | { route: typeof Route.Deliver; cid: number; uid: number; packet: Uint8Array }
  | { route: typeof Route.GetState }
  | { route: typeof Route.SetState; state: 0 | 1 | 2 | 3 }
  | { route: typeof Route.MeshCall; service: string; method: string; codec: string; args: Uint8Array };

function sessionKind(value: number): 1 | 2 | undefined {
  return value === 1 || value === 2 ? value : undefined;
}

function text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function readTargets(frame: Uint8Array, off: number): number[] | undefined {
  if (frame.length < off + 2) return undefined;
  const count = readU16(frame, off);
  if (frame.length < off + 2 + 8 * count) return undefined;
  const targets = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const target = readI64(frame, off + 2 + 8 * i);
    if (Number.isNaN(target)) return undefined;
    targets[i] = target;
  }
  return targets;
}

/**
 * Decodes the body of a request frame (size prefix included; the caller has checked it is a data frame of at
 * least {@linkcode FRAME_HEAD_BYTES}). Returns `undefined` when the body is malformed or the route unknown.
 */
export function decodeRequest(frame: Uint8Array): DrpcRequest | undefined {
  const route = frame[5];
  const b = FRAME_HEAD_BYTES;
  const n = frame.length - b;
  const disconnect = (frame[4] & HeaderBit.Disconnect) !== 0;
  switch (route) {
    case Route.Handshake: {
      const kind = frame[b];
      const id = n > 1 ? text(frame.subarray(b + 1)) : undefined;
      if (n < 2 || (kind !== 1 && kind !== 2 && kind !== 3) || id === undefined) return undefined;
      return { route, kind, id };
    }
    case Route.Bind: {
      const cid = readI64(frame, b), uid = readI64(frame, b + 8);
      return n === 16 && !Number.isNaN(cid + uid) ? { route, cid, uid } : undefined;
    }
    case Route.Unbind: {
      const uid = readI64(frame, b);
      return n === 8 && !Number.isNaN(uid) ? { route, uid } : undefined;
    }
    case Route.GetIP:
    case Route.IsOnline: {
      const kind = sessionKind(frame[b]), target = readI64(frame, b + 1);
      return n === 9 && kind && !Number.isNaN(target) ? { route, kind, target } : undefined;
    }
    case Route.Stat: {
      const kind = sessionKind(frame[b]);
      return n === 1 && kind ? { route, kind } : undefined;
    }
    case Route.Disconnect: {
      const kind = sessionKind(frame[b]), target = readI64(frame, b + 1);
      return n === 10 && kind && !Number.isNaN(target)
        ? { route, kind, target, force: frame[b + 9] !== 0 }
        : undefined;
    }
    case Route.Push: {
      const kind = sessionKind(frame[b]), target = readI64(frame, b + 1);
      return n >= 9 && kind && !Number.isNaN(target)
        ? { route, kind, target, packet: frame.subarray(b + 9), disconnect }
        : undefined;
    }
    case Route.Multicast: {
      const kind = sessionKind(frame[b]);
      const targets = n >= 3 ? readTargets(frame, b + 1) : undefined;
      return kind && targets
        ? { route, kind, targets, packet: frame.subarray(b + 3 + 8 * targets.length), disconnect }
        : undefined;
    }
    case Route.Broadcast: {
      const kind = sessionKind(frame[b]);
      return n >= 1 && kind ? { route, kind, packet: frame.subarray(b + 1), disconnect } : undefined;
    }
    case Route.Publish: {
      const len = frame[b];
      const channel = n >= 1 + len ? text(frame.subarray(b + 1, b + 1 + len)) : undefined;
      return n >= 1 && channel !== undefined
        ? { route, channel, packet: frame.subarray(b + 1 + len), disconnect }
        : undefined;
    }
    case Route.Subscribe:
    case Route.Unsubscribe: {
      const kind = sessionKind(frame[b]);
      const targets = n >= 3 ? readTargets(frame, b + 1) : undefined;
      const channel = targets ? text(frame.subarray(b + 3 + 8 * targets.length)) : undefined;
      return kind && targets && channel !== undefined ? { route, kind, targets, channel } : undefined;
    }
    case Route.Trigger: {
      const event = frame[b], cid = readI64(frame, b + 1), uid = n === 17 ? readI64(frame, b + 9) : 0;
      return (n === 9 || n === 17) && (event === 1 || event === 2 || event === 3) && !Number.isNaN(cid + uid)
        ? { route, event, cid, uid }
        : undefined;
    }
    case Route.Deliver: {
      const cid = readI64(frame, b), uid = readI64(frame, b + 8);
      return n >= 16 && !Number.isNaN(cid + uid)
        ? { route, cid, uid, packet: frame.subarray(b + 16) }
        : undefined;
    }
    case Route.GetState:
      return n === 0 ? { route } : undefined;
    case Route.SetState: {
      const state = frame[b];
      return n === 1 && (state === 0 || state === 1 || state === 2 || state === 3)
        ? { route, state }
        : undefined;
    }
    case Route.MeshCall: {
      const names: string[] = [];
      let off = b;
      for (let i = 0; i < 3; i++) {
        if (off >= frame.length) return undefined;
        const len = frame[off];
        if (off + 1 + len > frame.length) return undefined;
        const name = text(frame.subarray(off + 1, off + 1 + len));
        if (name === undefined) return undefined;
        names.push(name);
        off += 1 + len;
      }
      return { route, service: names[0], method: names[1], codec: names[2], args: frame.subarray(off) };
    }
    default:
      return undefined;
  }
}

// ---- responses --------------------------------------------------------------------------------------------------

/** Bytes of a response carrying only a code. */
export const RESPONSE_BYTES: number = FRAME_HEAD_BYTES + CODE_BYTES;
/** Bytes of an IsOnline or GetState response (code + u8). */
export const BYTE_RESPONSE_BYTES: number = RESPONSE_BYTES + 1;

/**
 * A response carrying only a code at `off` ({@linkcode RESPONSE_BYTES} free): Handshake, Bind, Unbind,
 * Disconnect, Push, Subscribe, Unsubscribe, Trigger, Deliver, SetState — and any route answered with an error
 * code. Returns the offset after it.
 */
export function writeResponse(buf: Uint8Array, off: number, route: number, seq: number, code: Code): number {
  const body = writeHead(buf, off, RESPONSE_BYTES, HeaderBit.Data, route, seq);
  writeU16(buf, body, code);
  return body + CODE_BYTES;
}

/** A response carrying only a code (see {@linkcode writeResponse}). */
export function encodeResponse(route: number, seq: number, code: Code): Uint8Array {
  const out = new Uint8Array(RESPONSE_BYTES);
  writeResponse(out, 0, route, seq, code);
  return out;
}

/** Bytes of a Stat/Multicast/Broadcast/Publish response: the total is left out when the code is not OK or it is 0. */
export function totalResponseBytes(code: Code, total: number): number {
  return code === Code.OK && total > 0 ? RESPONSE_BYTES + 8 : RESPONSE_BYTES;
}

/**
 * Stat, Multicast, Broadcast, Publish response at `off` ({@linkcode totalResponseBytes} free): code
 * [+ total u64]. Returns the offset after it.
 */
export function writeTotalResponse(
  buf: Uint8Array,
  off: number,
  route: number,
  seq: number,
  code: Code,
  total: number,
): number {
  const bytes = totalResponseBytes(code, total);
  const body = writeHead(buf, off, bytes, HeaderBit.Data, route, seq);
  writeU16(buf, body, code);
  if (bytes === RESPONSE_BYTES) return body + CODE_BYTES;
  writeU64(buf, body + CODE_BYTES, total);
  return body + CODE_BYTES + 8;
}

/** Stat, Multicast, Broadcast, Publish: code [+ total u64], the total left out when the code is not OK or it is 0. */
export function encodeTotalResponse(route: number, seq: number, code: Code, total: number): Uint8Array {
  const out = new Uint8Array(totalResponseBytes(code, total));
  writeTotalResponse(out, 0, route, seq, code, total);
  return out;
}

/** IsOnline (online 0/1) or GetState (state) response at `off` ({@linkcode BYTE_RESPONSE_BYTES} free). */
export function writeByteResponse(
  buf: Uint8Array,
  off: number,
  route: number,
  seq: number,
  code: Code,
  value: number,
): number {
  const body = writeHead(buf, off, BYTE_RESPONSE_BYTES, HeaderBit.Data, route, seq);
  writeU16(buf, body, code);
  buf[body + CODE_BYTES] = value;
  return body + CODE_BYTES + 1;
}

/** IsOnline (online 0/1) and GetState (state): code + u8. */
export function encodeByteResponse(route: number, seq: number, code: Code, value: number): Uint8Array {
  const out = new Uint8Array(BYTE_RESPONSE_BYTES);
  writeByteResponse(out, 0, route, seq, code, value);
  return out;
}

/** The u32 of a dotted IPv4 address (also `::ffff:a.b.c.d`), or -1 when `ip` is not one. */
export function ipv4ToU32(ip: string): number {
  const match = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip);
  if (!match) return -1;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(match[i]);
    if (part > 255) return -1;
    value = value * 256 + part;
  }
  return value;
}

/** The dotted form of an IPv4 address held in a u32. */
export function u32ToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** GetIP: code [+ ipv4 u32], the address left out when the code is not OK or it is not an IPv4 address. */
export function encodeGetIPResponse(seq: number, code: Code, ip: string | undefined): Uint8Array {
  const value = code === Code.OK && ip !== undefined ? ipv4ToU32(ip) : -1;
  const out = frame(CODE_BYTES + (value >= 0 ? 4 : 0), HeaderBit.Data, Route.GetIP, seq);
  writeU16(out, FRAME_HEAD_BYTES, code);
  if (value >= 0) writeU32(out, FRAME_HEAD_BYTES + CODE_BYTES, value);
  return out;
}

/** MeshCall success (route 18, ours): code 0 + the encoded result (rest). */
export function encodeMeshResult(seq: number, result: Uint8Array): Uint8Array {
  const out = frame(CODE_BYTES + result.length, HeaderBit.Data, Route.MeshCall, seq);
  out.set(result, FRAME_HEAD_BYTES + CODE_BYTES);
  return out;
}

/**
 * MeshCall failure (route 18, ours): code (InternalError), error code length u8, error code (a due error code
 * such as `route_not_found`), message (rest, UTF-8). The message is cut to fit `maxBytes` of body if given.
 */
export function encodeMeshError(
  seq: number,
  errorCode: string,
  message: string,
  maxBytes = 0xffff,
): Uint8Array {
  const codeBytes = shortString("error code", errorCode, MAX_NAME_BYTES);
  let messageBytes = utf8.encode(message);
  let room = Math.max(0, maxBytes - CODE_BYTES - 1 - codeBytes.length);
  if (messageBytes.length > room) {
    while (room > 0 && (messageBytes[room] & 0xc0) === 0x80) room--; // cut on a character boundary
    messageBytes = messageBytes.subarray(0, room);
  }
  const out = frame(
    CODE_BYTES + 1 + codeBytes.length + messageBytes.length,
    HeaderBit.Data,
    Route.MeshCall,
    seq,
  );
  writeU16(out, FRAME_HEAD_BYTES, Code.InternalError);
  out[FRAME_HEAD_BYTES + CODE_BYTES] = codeBytes.length;
  out.set(codeBytes, FRAME_HEAD_BYTES + CODE_BYTES + 1);
  out.set(messageBytes, FRAME_HEAD_BYTES + CODE_BYTES + 1 + codeBytes.length);
  return out;
}

/** The code of a response frame; -1 when the frame has no room for one. */
export function responseCode(frame: Uint8Array): number {
  return frame.length >= FRAME_HEAD_BYTES + CODE_BYTES ? readU16(frame, FRAME_HEAD_BYTES) : -1;
}

/** The total of a Stat/Multicast/Broadcast/Publish response: 0 when left out, -1 when malformed. */
export function responseTotal(frame: Uint8Array): number {
  const n = frame.length - FRAME_HEAD_BYTES - CODE_BYTES;
  if (n === 0) return 0;
  return n === 8 ? readU64(frame, FRAME_HEAD_BYTES + CODE_BYTES) : -1;
}

/** The u8 of an IsOnline/GetState response; -1 when missing. */
export function responseByte(frame: Uint8Array): number {
  return frame.length === FRAME_HEAD_BYTES + CODE_BYTES + 1 ? frame[FRAME_HEAD_BYTES + CODE_BYTES] : -1;
}

/** The address of a GetIP response: `undefined` when left out, `null` when malformed. */
export function responseIP(frame: Uint8Array): string | undefined | null {
  const n = frame.length - FRAME_HEAD_BYTES - CODE_BYTES;
  if (n === 0) return undefined;
  return n === 4 ? u32ToIpv4(readU32(frame, FRAME_HEAD_BYTES + CODE_BYTES)) : null;
}

/** A decoded MeshCall response: the result (a subarray of the frame) or the error's code and message. */
export type MeshResponse =
  | { ok: true; result: Uint8Array }
  | { ok: false; errorCode: string; message: string };

/** Decodes a MeshCall response; `undefined` when malformed. */
export function decodeMeshResponse(frame: Uint8Array): MeshResponse | undefined {
  const code = responseCode(frame);
  const b = FRAME_HEAD_BYTES + CODE_BYTES;
  if (code === Code.OK) return { ok: true, result: frame.subarray(b) };
  if (code < 0) return undefined;
  if (frame.length === b) return { ok: false, errorCode: "internal", message: "" };
  const len = frame[b];
  const errorCode = frame.length >= b + 1 + len ? text(frame.subarray(b + 1, b + 1 + len)) : undefined;
  const message = text(frame.subarray(b + 1 + len));
  if (errorCode === undefined || message === undefined) return undefined;
  return { ok: false, errorCode, message };
}

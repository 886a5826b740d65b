/**
 * Helpers for the KCP tests: a seeded PRNG, hex, datagram decoding, and a simulated lossy link between two
 * endpoints with loss, reordering (random latency) and duplication, driven by an injected clock.
 *
 * @module
 */
import {
  decodeSegmentHeader,
  Kcp,
  KCP_OVERHEAD,
  type KcpSegmentHeader,
} from "../../adapters/network/kcp/mod.ts";

/**
 * A deterministic PRNG (mulberry32) returning floats in [0, 1).
 *
 * @param seed Any u32.
 * @returns The generator.
 */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function random(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The bytes of a hex string. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Deterministic message bytes: byte j is `(j * 31 + seed) & 0xff`. */
export function patternBytes(len: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(len);
  for (let j = 0; j < len; j++) bytes[j] = (j * 31 + seed) & 0xff;
  return bytes;
}

/** A decoded segment: its header plus its data. */
export interface DecodedSegment extends KcpSegmentHeader {
  /** The data bytes (a copy). */
  data: Uint8Array;
}

/** Splits a well-formed datagram (as `output` emits) into its segments. */
export function segmentsOf(datagram: Uint8Array): DecodedSegment[] {
  const segments: DecodedSegment[] = [];
  let off = 0;
  while (datagram.length - off >= KCP_OVERHEAD) {
    const header = decodeSegmentHeader(datagram, off)!;
    off += KCP_OVERHEAD;
    segments.push({ ...header, data: datagram.slice(off, off + header.len) });
    off += header.len;
  }
  if (off !== datagram.length) {
    throw new Error(`Datagram of ${datagram.length} bytes has ${off} bytes of segments`);
  }
  return segments;
}

/** Options of {@linkcode createSimLink}. */
export interface SimLinkOptions {
  /** The PRNG. */
  random: () => number;
  /** Probability that a datagram is lost. @default 0 */
  loss?: number;
  /** Probability that a delivered datagram is delivered twice. @default 0 */
  duplicate?: number;
  /** Smallest one-way latency in ms. @default 0 */
  minDelayMs?: number;
  /** Largest one-way latency in ms; a spread reorders datagrams. @default 0 */
  maxDelayMs?: number;
}

/** Counters of a {@linkcode SimLink}. */
export interface SimLinkStats {
  /** Datagrams handed to the link. */
  sent: number;
  /** Datagrams lost. */
  lost: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Datagrams delivered after one sent later. */
  reordered: number;
}

/** One direction of a simulated link. */
export interface SimLink {
  /** Takes a datagram sent at `nowMs` (copied). */
  send(datagram: Uint8Array, nowMs: number): void;
  /** Hands every datagram due at or before `nowMs` to `deliver`, in arrival order. */
  deliverDue(nowMs: number, deliver: (datagram: Uint8Array) => void): void;
  /** When the next datagram arrives, or `Infinity`. */
  nextArrival(): number;
  /** Datagrams in flight. */
  readonly inFlight: number;
  /** Counters. */
  readonly stats: SimLinkStats;
}

/**
 * A lossy, reordering, duplicating datagram link with a simulated clock.
 *
 * @param options Loss, duplication and latency.
 * @returns The link.
 */
export function createSimLink(options: SimLinkOptions): SimLink {
  const { random, loss = 0, duplicate = 0, minDelayMs = 0, maxDelayMs = minDelayMs } = options;
  const queue: { at: number; order: number; data: Uint8Array }[] = [];
  const stats: SimLinkStats = { sent: 0, lost: 0, duplicated: 0, reordered: 0 };
  let order = 0;
  let lastDeliveredOrder = -1;
  const schedule = (at: number, o: number, data: Uint8Array) => {
    let i = queue.length;
    while (i > 0 && (queue[i - 1].at > at || (queue[i - 1].at === at && queue[i - 1].order > o))) i--;
    queue.splice(i, 0, { at, order: o, data });
  };
  const delay = () => minDelayMs + Math.floor(random() * (maxDelayMs - minDelayMs + 1));
  return {
    send(datagram, nowMs) {
      stats.sent++;
      const o = order++;
      if (random() < loss) {
        stats.lost++;
        return;
      }
      schedule(nowMs + delay(), o, datagram.slice());
      if (random() < duplicate) {
        stats.duplicated++;
        schedule(nowMs + delay(), o, datagram.slice());
      }
    },
    deliverDue(nowMs, deliver) {
      while (queue.length > 0 && queue[0].at <= nowMs) {
        const { order: o, data } = queue.shift()!;
        if (o < lastDeliveredOrder) stats.reordered++;
        else lastDeliveredOrder = o;
        deliver(data);
      }
    },
    nextArrival() {
      return queue.length > 0 ? queue[0].at : Infinity;
    },
    get inFlight() {
      return queue.length;
    },
    stats,
  };
}

/** Two endpoints joined by a perfect link that delivers at the end of each {@linkcode KcpPair.step}. */
export interface KcpPair {
  /** The first endpoint. */
  a: Kcp;
  /** The second endpoint. */
  b: Kcp;
  /** Every datagram `a` emitted (copies). */
  fromA: Uint8Array[];
  /** Every datagram `b` emitted (copies). */
  fromB: Uint8Array[];
  /** Updates `a` then `b` at `nowMs`, then delivers what they emitted in this step. */
  step(nowMs: number): void;
}

/**
 * Makes a {@linkcode KcpPair}.
 *
 * @param conv The conversation id.
 * @param setup Called on each endpoint (a first) after creation, to apply settings.
 * @returns The pair.
 */
export function createPair(conv: number, setup: (kcp: Kcp) => void = () => {}): KcpPair {
  const fromA: Uint8Array[] = [];
  const fromB: Uint8Array[] = [];
  const a = new Kcp(conv, (d) => fromA.push(d.slice()));
  const b = new Kcp(conv, (d) => fromB.push(d.slice()));
  setup(a);
  setup(b);
  return {
    a,
    b,
    fromA,
    fromB,
    step(nowMs) {
      const na = fromA.length;
      const nb = fromB.length;
      a.update(nowMs);
      b.update(nowMs);
      for (const d of fromA.slice(na)) b.input(d);
      for (const d of fromB.slice(nb)) a.input(d);
    },
  };
}

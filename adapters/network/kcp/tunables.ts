/**
 * The KCP settings a gate and a client share (`network.kcp.server.*` and `network.kcp.client.*`): MTU, nodelay
 * tuple, ACK policy, windows and dead-link count, their defaults, their validation, and how they are applied to a
 * {@linkcode Kcp} endpoint in stream mode. No I/O: the client SDK imports it in Deno, Node and bundles.
 *
 * @module
 */

import { DEFAULT_KCP_DEAD_LINK, DEFAULT_KCP_MTU_BYTES, Kcp, KCP_MAX_WND, KCP_MIN_MTU_BYTES } from "./kcp.ts";
import type { KcpOutput } from "./kcp.ts";

/** The nodelay tuple `[nodelay, intervalMs, resend, nc]` of `Kcp.setNoDelay`. */
export type KcpNoDelay = readonly [nodelay: number, intervalMs: number, resend: number, nc: number];
/** The window pair `[sndWnd, rcvWnd]` of `Kcp.setWndSize`, in segments. */
export type KcpWindowSize = readonly [sndWnd: number, rcvWnd: number];

/**
 * Default nodelay tuple of due's KCP sessions: nodelay on, 10 ms interval, fast resend after 2 ACKs, no congestion
 * window (the "turbo" setting of skywind3000/kcp).
 */
export const DEFAULT_KCP_NO_DELAY: KcpNoDelay = Object.freeze([1, 10, 2, 1] as const);
/** Default windows of due's KCP sessions, `[send, receive]` in segments. */
export const DEFAULT_KCP_WINDOW_SIZE: KcpWindowSize = Object.freeze([256, 256] as const);
/** Default ACK policy: ACK each received datagram at once instead of on the next interval. */
export const DEFAULT_KCP_ACK_NO_DELAY = true;
/** Largest MTU accepted: an Ethernet payload (the config schema allows 50..1500). */
export const KCP_MAX_SESSION_MTU_BYTES = 1500;

/**
 * The KCP settings of one session; both ends should agree on `mtu` and the nodelay tuple.
 *
 * @example
 * ```ts
 * import type { KcpTunables } from "./tunables.ts";
 * const lowBandwidth: KcpTunables = { mtu: 1200, noDelay: [0, 40, 0, 0], windowSize: [64, 128] };
 * console.assert(lowBandwidth.mtu === 1200);
 * ```
 */
export interface KcpTunables {
  /** Largest datagram in bytes, 50..1500. @default {1400} */
  mtu?: number;
  /** `[nodelay, intervalMs, resend, nc]`, see `Kcp.setNoDelay`. @default {[1, 10, 2, 1]} */
  noDelay?: KcpNoDelay;
  /** ACK every datagram at once (`true`) or with the next interval's flush. @default {true} */
  ackNoDelay?: boolean;
  /** `[send, receive]` windows in segments, 1..65535 (a receive window below 128 counts as 128). @default {[256, 256]} */
  windowSize?: KcpWindowSize;
  /** Transmissions of one segment without an ACK after which the link counts as dead. @default {20} */
  deadLink?: number;
}

/** {@linkcode KcpTunables} with every default filled in. */
export type ResolvedKcpTunables = Required<KcpTunables>;

function fail(action: string, key: string, expected: string, value: unknown): never {
  const shown = Array.isArray(value) ? `[${value.join(", ")}]` : String(value);
  throw new RangeError(`Cannot ${action} as '${key}' must be ${expected}: current value is ${shown}`);
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/**
 * Fills in the defaults of `options` and validates them.
 *
 * @param action What is being created, for the error message (`"create kcp server"`).
 * @param options The settings given.
 * @returns Every setting, defaults included.
 * @throws {RangeError} When a setting is out of range or of the wrong shape.
 *
 * @example
 * ```ts
 * import { resolveKcpTunables } from "./tunables.ts";
 * const tunables = resolveKcpTunables("create kcp client", { mtu: 1200 });
 * console.assert(tunables.windowSize[0] === 256 && tunables.mtu === 1200);
 * ```
 */
export function resolveKcpTunables(action: string, options: KcpTunables): ResolvedKcpTunables {
  const {
    mtu = DEFAULT_KCP_MTU_BYTES,
    noDelay = DEFAULT_KCP_NO_DELAY,
    ackNoDelay = DEFAULT_KCP_ACK_NO_DELAY,
    windowSize = DEFAULT_KCP_WINDOW_SIZE,
    deadLink = DEFAULT_KCP_DEAD_LINK,
  } = options;
  if (!isIntIn(mtu, KCP_MIN_MTU_BYTES, KCP_MAX_SESSION_MTU_BYTES)) {
    fail(action, "mtu", `an integer in [${KCP_MIN_MTU_BYTES}, ${KCP_MAX_SESSION_MTU_BYTES}]`, mtu);
  }
  if (
    !Array.isArray(noDelay) || noDelay.length !== 4 || !noDelay.every((v) => isIntIn(v, 0, 5000)) ||
    noDelay[0] > 2
  ) {
    fail(action, "noDelay", "[nodelay 0..2, interval ms, resend, nc] of integers in [0, 5000]", noDelay);
  }
  if (typeof ackNoDelay !== "boolean") fail(action, "ackNoDelay", "a boolean", ackNoDelay);
  if (
    !Array.isArray(windowSize) || windowSize.length !== 2 ||
    !windowSize.every((v) => isIntIn(v, 1, KCP_MAX_WND))
  ) {
    fail(action, "windowSize", `[send, receive] of integers in [1, ${KCP_MAX_WND}]`, windowSize);
  }
  if (!isIntIn(deadLink, 1, 0xffffffff)) fail(action, "deadLink", "a positive integer", deadLink);
  return { mtu, noDelay, ackNoDelay, windowSize, deadLink };
}

/**
 * Makes a KCP endpoint in stream mode (due's packets are a byte stream, as over TCP) with `tunables` applied.
 *
 * @param conv The conversation id (u32).
 * @param output Receives each datagram; it must send or copy it before returning.
 * @param tunables Resolved settings ({@linkcode resolveKcpTunables}).
 * @returns The endpoint.
 *
 * @example
 * ```ts
 * import { createStreamKcp, resolveKcpTunables } from "./tunables.ts";
 * const kcp = createStreamKcp(7, () => {}, resolveKcpTunables("create kcp", {}));
 * console.assert(kcp.stream && kcp.mtu === 1400);
 * ```
 */
export function createStreamKcp(conv: number, output: KcpOutput, tunables: ResolvedKcpTunables): Kcp {
  const kcp = new Kcp(conv, output);
  kcp.stream = true;
  if (tunables.mtu !== kcp.mtu) kcp.setMtu(tunables.mtu);
  const [nodelay, intervalMs, resend, nc] = tunables.noDelay;
  kcp.setNoDelay(nodelay, intervalMs, resend, nc);
  kcp.setWndSize(tunables.windowSize[0], tunables.windowSize[1]);
  kcp.deadLink = tunables.deadLink;
  return kcp;
}

/**
 * Queues `bytes` on a stream-mode endpoint, in pieces small enough for `Kcp.send` (which refuses more than 127
 * segments at once).
 *
 * @param kcp A stream-mode endpoint.
 * @param bytes The bytes; copied.
 *
 * @example
 * ```ts
 * import { createStreamKcp, resolveKcpTunables, sendStream } from "./tunables.ts";
 * const kcp = createStreamKcp(7, () => {}, resolveKcpTunables("create kcp", {}));
 * sendStream(kcp, new Uint8Array(300_000));
 * console.assert(kcp.waitSnd() === Math.ceil(300_000 / kcp.mss));
 * ```
 */
export function sendStream(kcp: Kcp, bytes: Uint8Array): void {
  const piece = kcp.mss * 64;
  if (bytes.length <= piece) {
    kcp.send(bytes);
    return;
  }
  for (let off = 0; off < bytes.length; off += piece) kcp.send(bytes.subarray(off, off + piece));
}

/** The millisecond clock both ends drive their endpoints with: whole ms of `performance.now()`. */
export function kcpNow(): number {
  return Math.floor(performance.now());
}

/**
 * When `kcp` must be updated next, on the {@linkcode kcpNow} clock: `kcp.check()` on the endpoint's u32 clock,
 * carried over to `now`'s scale (the u32 clock wraps after 49 days).
 */
export function nextUpdateAt(kcp: Kcp, now: number): number {
  const current = now >>> 0;
  return now + ((kcp.check(current) - current) >>> 0);
}

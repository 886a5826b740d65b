/**
 * KCP, the ARQ protocol of skywind3000/kcp, as a TypeScript port of `ikcp.c` (tag 2.1.1, built-in congestion
 * control, `IKCP_FASTACK_CONSERVE` on). It is wire-compatible with ikcp and with kcp-go when FEC and encryption
 * are off, and replays the reference C traces in `tests/testdata/kcp/` byte for byte.
 *
 * Hand-written on purpose: no npm package fits. The ones that exist are native addons, or pure-JS ports that lack
 * retransmission and congestion control.
 *
 * Deliberate differences from ikcp.c, none of which changes a datagram of the reference traces:
 * - `check()` never answers a time at which `update()` would not flush (ikcp's can make a timer spin);
 * - at most `4 · rcvWnd` ACKs wait for a flush (ikcp grows its ACK list without bound under a flood);
 * - the flush buffer is `mtu` bytes and grows for a segment queued before `setMtu()` shrank the MTU (ikcp writes
 *   past its `3 · (mtu + 24)`-byte buffer in that case);
 * - setters throw `RangeError` on values ikcp would reject or truncate (MTU and windows are capped at 65535);
 * - segment objects and their data are reused through a process-wide, byte-bounded free-list.
 *
 * Why one file past ~400 lines: it is one state machine whose functions share all of its fields, kept in ikcp.c's
 * order (recv, send, input, flush, update, check, setters) so that it can be read side by side with the C source.
 * The wire codec lives in `segment.ts`, the queues in `_segment_queue.ts` and the segment free-list in
 * `_segment_pool.ts`.
 *
 * The core does no I/O and reads no clock. A session wrapper drives it:
 * - `input(datagram)` for every datagram received for this conv;
 * - `update(nowMs)` from a timer, next due at `check(nowMs)`; output happens only there (or in `flush()`);
 * - `send(bytes)` to queue outgoing bytes, `recv(buffer)` to take incoming messages out;
 * - `waitSnd()` for back-pressure (the send queue itself is not bounded) and `state === -1` for a dead link.
 *
 * All time values are u32 milliseconds that may wrap around 2^32; they are compared as `(int32)(a - b)`.
 *
 * @module
 */

import { encodeSegmentHeader, KCP_OVERHEAD, KcpCmd, readU16LE, readU32LE } from "./segment.ts";
import { acquireSegment, releaseSegment } from "./_segment_pool.ts";
import { SegmentQueue } from "./_segment_queue.ts";

/** Default MTU in bytes (`IKCP_MTU_DEF`): the largest datagram `output` is given. */
export const DEFAULT_KCP_MTU_BYTES = 1400;
/** Default send window in segments (`IKCP_WND_SND`). */
export const DEFAULT_KCP_SND_WND = 32;
/** Default receive window in segments (`IKCP_WND_RCV`); also the smallest receive window `setWndSize` keeps. */
export const DEFAULT_KCP_RCV_WND = 128;
/** Default flush interval in milliseconds (`IKCP_INTERVAL`). */
export const DEFAULT_KCP_INTERVAL_MS = 100;
/** Default transmissions of one segment after which `state` becomes -1 (`IKCP_DEADLINK`). */
export const DEFAULT_KCP_DEAD_LINK = 20;
/** Most fragments one message may have in message mode: a longer `send` returns -2. */
export const KCP_MAX_FRAGMENTS = 127;
/** Smallest MTU `setMtu` accepts (as ikcp). */
export const KCP_MIN_MTU_BYTES = 50;
/** Largest MTU `setMtu` accepts: a UDP datagram cannot be larger. */
export const KCP_MAX_MTU_BYTES = 65535;
/** Largest window `setWndSize` accepts: `wnd` is a u16 on the wire. */
export const KCP_MAX_WND = 65535;

/** Results of {@linkcode Kcp.input}. Segments before a rejected one have already been processed. */
export const KcpInputResult = {
  /** Every segment was accepted (unparsable trailing bytes shorter than a header are ignored). */
  Ok: 0,
  /** The datagram is shorter than a header, or a segment carries another conv. */
  InvalidHeader: -1,
  /** A segment's `len` is larger than the bytes that follow it. */
  InvalidLength: -2,
  /** A segment's `cmd` is not one of {@linkcode KcpCmd}. */
  UnknownCommand: -3,
} as const;

/** One of the values of {@linkcode KcpInputResult}. */
export type KcpInputResult = typeof KcpInputResult[keyof typeof KcpInputResult];

/** Negative results of {@linkcode Kcp.recv}. */
export const KcpRecvResult = {
  /** Nothing to read. */
  Empty: -1,
  /** The next message has not arrived whole yet. */
  Incomplete: -2,
  /** The buffer is smaller than the next message ({@linkcode Kcp.peekSize} tells its size). */
  BufferTooSmall: -3,
} as const;

/** One of the values of {@linkcode KcpRecvResult}. */
export type KcpRecvResult = typeof KcpRecvResult[keyof typeof KcpRecvResult];

/** Negative results of {@linkcode Kcp.send}. */
export const KcpSendResult = {
  /** The message would need more than {@linkcode KCP_MAX_FRAGMENTS} fragments; nothing was queued. */
  TooLarge: -2,
} as const;

/** One of the values of {@linkcode KcpSendResult}. */
export type KcpSendResult = typeof KcpSendResult[keyof typeof KcpSendResult];

/** Values of {@linkcode Kcp.state}. */
export const KcpState = {
  /** Normal. */
  Alive: 0,
  /** A segment was transmitted `deadLink` times without being acknowledged. */
  DeadLink: -1,
} as const;

/** One of the values of {@linkcode KcpState}. */
export type KcpState = typeof KcpState[keyof typeof KcpState];

/**
 * Receives each datagram a {@linkcode Kcp} emits, synchronously, from `update()` or `flush()`.
 *
 * The array is a view of the endpoint's reused flush buffer (and the same view object may be passed again for a
 * later datagram of the same length): its bytes are valid only until the callback returns, so send it at once or
 * copy it. The callback must not call back into the same endpoint, and should not throw (an
 * exception propagates out of `update()`/`flush()` and the rest of that flush is not sent).
 */
export type KcpOutput = (datagram: Uint8Array) => void;

/**
 * A copy of an endpoint's counters under ikcp's field names in camelCase, for metrics, debugging and tests.
 * Signed fields: `state`, `rxSrtt`, `rxRttval`, `rxRto`, `rxMinrto`; all others are u32.
 */
export interface KcpSnapshot {
  /** Oldest unacknowledged sn (`snd_una`). */
  sndUna: number;
  /** Next sn to send (`snd_nxt`). */
  sndNxt: number;
  /** Next sn expected (`rcv_nxt`). */
  rcvNxt: number;
  /** Congestion window in segments. */
  cwnd: number;
  /** Slow-start threshold in segments. */
  ssthresh: number;
  /** Congestion-avoidance byte counter. */
  incr: number;
  /** Smoothed RTT in ms. */
  rxSrtt: number;
  /** RTT variation in ms. */
  rxRttval: number;
  /** Retransmission timeout in ms. */
  rxRto: number;
  /** Lower bound of `rxRto` in ms. */
  rxMinrto: number;
  /** Peer's advertised free receive window. */
  rmtWnd: number;
  /** Send window. */
  sndWnd: number;
  /** Receive window. */
  rcvWnd: number;
  /** Segments sent and not yet acknowledged. */
  nsndBuf: number;
  /** Segments queued and not yet sent. */
  nsndQue: number;
  /** Received segments waiting for a gap to fill. */
  nrcvBuf: number;
  /** Received in-order segments waiting for `recv`. */
  nrcvQue: number;
  /** Timeout retransmissions so far. */
  xmit: number;
  /** 0, or -1 after a dead link. */
  state: number;
  /** Pending window probe flags (1 ask, 2 tell). */
  probe: number;
  /** Current window probe back-off in ms. */
  probeWait: number;
  /** When the next window probe is due. */
  tsProbe: number;
  /** When the next flush is due. */
  tsFlush: number;
  /** MTU in bytes. */
  mtu: number;
  /** Maximum segment data bytes (`mtu - 24`). */
  mss: number;
  /** Flush interval in ms. */
  interval: number;
}

const RTO_NDL = 30;
const RTO_MIN = 100;
const RTO_DEF = 200;
const RTO_MAX = 60000;
const ASK_SEND = 1;
const ASK_TELL = 2;
const THRESH_INIT = 2;
const THRESH_MIN = 2;
const PROBE_INIT = 5000;
const PROBE_LIMIT = 120000;
const FASTACK_LIMIT = 5;
/** Pending ACKs kept per receive-window slot; more (a flood of duplicates) are dropped until the next flush. */
const ACKS_PER_RCV_WND = 4;
/** Below this many bytes a copy loop beats `set(subarray())`, which allocates a view. */
const COPY_LOOP_MAX = 32;
/** Entries of the per-endpoint cache of output views (a power of two). */
const VIEW_CACHE_SIZE = 8;

/** `_itimediff`: `(int32)(later - earlier)`. */
function diff(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (n <= COPY_LOOP_MAX) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
  } else if (srcOff === 0 && n === src.length) {
    dst.set(src, dstOff);
  } else {
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
  }
}

function checkInteger(action: string, name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be an integer in [${min}, ${max}]: current value is ${value}`,
    );
  }
}

/**
 * One KCP endpoint (`ikcpcb`): a reliable, ordered message or byte stream over an unreliable datagram link.
 *
 * @example Two endpoints joined by an in-memory link
 * ```ts
 * import { Kcp } from "./kcp.ts";
 * const wire: Uint8Array[] = [];
 * const a = new Kcp(1, (d) => wire.push(d.slice()));
 * const b = new Kcp(1, () => {});
 * a.setNoDelay(1, 10, 2, 1);
 * a.send(new TextEncoder().encode("hello"));
 * a.update(0);
 * for (const d of wire) b.input(d);
 * const buf = new Uint8Array(1024);
 * const n = b.recv(buf);
 * console.log(new TextDecoder().decode(buf.subarray(0, n))); // hello
 * ```
 */
export class Kcp {
  readonly #conv: number;
  readonly #output: KcpOutput;
  #mtu = DEFAULT_KCP_MTU_BYTES;
  #mss = DEFAULT_KCP_MTU_BYTES - KCP_OVERHEAD;
  #state = 0;
  #sndUna = 0;
  #sndNxt = 0;
  #rcvNxt = 0;
  #tsProbe = 0;
  #probeWait = 0;
  #sndWnd = DEFAULT_KCP_SND_WND;
  #rcvWnd = DEFAULT_KCP_RCV_WND;
  #rmtWnd = DEFAULT_KCP_RCV_WND;
  #cwnd = 0;
  #incr = 0;
  #probe = 0;
  #current = 0;
  #interval = DEFAULT_KCP_INTERVAL_MS;
  #tsFlush = DEFAULT_KCP_INTERVAL_MS;
  #xmit = 0;
  #nodelay = 0;
  #updated = false;
  #ssthresh = THRESH_INIT;
  #rxSrtt = 0;
  #rxRttval = 0;
  #rxRto = RTO_DEF;
  #rxMinrto = RTO_MIN;
  #fastresend = 0;
  #fastlimit = FASTACK_LIMIT;
  #nocwnd = false;
  #stream = false;
  #deadLink = DEFAULT_KCP_DEAD_LINK;

  readonly #sndQueue = new SegmentQueue();
  readonly #sndBuf = new SegmentQueue();
  readonly #rcvBuf = new SegmentQueue();
  readonly #rcvQueue = new SegmentQueue();
  /** Pending ACKs as (sn, ts) pairs. */
  #acks = new Uint32Array(16);
  #ackCount = 0;
  /** The one datagram buffer every flush builds into: `mtu` bytes (ikcp allocates 3·(mtu + 24), unused). */
  #buffer = new Uint8Array(DEFAULT_KCP_MTU_BYTES);
  /** Views of `#buffer` handed to `output`, direct-mapped by length, so steady traffic allocates none. */
  readonly #views: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(VIEW_CACHE_SIZE);

  /**
   * Makes an endpoint with ikcp's defaults: normal mode (no nodelay, interval 100 ms, no fast resend, congestion
   * window on), windows 32/128, MTU 1400, message mode.
   *
   * @param conv Conversation id, a u32 both ends share.
   * @param output Receives every datagram to send; see {@linkcode KcpOutput} for the buffer's lifetime.
   * @throws {RangeError} If `conv` is not a u32.
   * @throws {TypeError} If `output` is not a function.
   */
  constructor(conv: number, output: KcpOutput) {
    checkInteger("create kcp", "conv", conv, 0, 0xffffffff);
    if (typeof output !== "function") {
      throw new TypeError(
        `Cannot create kcp as 'output' must be a function: current value is ${typeof output}`,
      );
    }
    this.#conv = conv;
    this.#output = output;
  }

  /** The conversation id. */
  get conv(): number {
    return this.#conv;
  }

  /**
   * Whether ACKs or a window tell wait for the next flush: what an input the peer expects an answer to leaves
   * behind (a datagram of ACKs only, or PUSH segments outside the window, leave none).
   */
  get hasPendingAcks(): boolean {
    return this.#ackCount > 0 || (this.#probe & ASK_TELL) !== 0;
  }

  /** {@linkcode KcpState.Alive} (0), or {@linkcode KcpState.DeadLink} (-1) once a segment was sent `deadLink` times. */
  get state(): KcpState {
    return this.#state === 0 ? KcpState.Alive : KcpState.DeadLink;
  }

  /** MTU in bytes: the largest datagram given to `output`. */
  get mtu(): number {
    return this.#mtu;
  }

  /** Maximum data bytes per segment: `mtu - 24`. */
  get mss(): number {
    return this.#mss;
  }

  /** Current retransmission timeout in ms (`rx_rto`). */
  get rtoMs(): number {
    return this.#rxRto;
  }

  /** Smoothed round-trip time in ms (`rx_srtt`), 0 before the first sample. */
  get srttMs(): number {
    return this.#rxSrtt;
  }

  /**
   * Stream mode (ikcp's `stream` field, off by default): sends are merged into full segments and `recv` returns
   * whatever is contiguous, segment by segment, with no message boundaries. Set it on both ends before the first
   * `send`.
   */
  get stream(): boolean {
    return this.#stream;
  }

  set stream(on: boolean) {
    this.#stream = on;
  }

  /** Transmissions of one segment after which `state` becomes -1 (`dead_link`). @default {20} */
  get deadLink(): number {
    return this.#deadLink;
  }

  set deadLink(count: number) {
    checkInteger("set kcp deadLink", "deadLink", count, 1, 0xffffffff);
    this.#deadLink = count;
  }

  /** Lower bound of the retransmission timeout in ms (`rx_minrto`); `setNoDelay` sets it to 30 or 100. */
  get minRtoMs(): number {
    return this.#rxMinrto;
  }

  set minRtoMs(ms: number) {
    checkInteger("set kcp minRtoMs", "minRtoMs", ms, 1, RTO_MAX);
    this.#rxMinrto = ms;
  }

  /** Fast resends of one segment allowed before only timeouts resend it; 0 or less: no limit. @default {5} */
  get fastLimit(): number {
    return this.#fastlimit;
  }

  set fastLimit(count: number) {
    checkInteger("set kcp fastLimit", "fastLimit", count, -0x80000000, 0x7fffffff);
    this.#fastlimit = count;
  }

  /** Flush interval in ms, clamped to [10, 5000] when set (`ikcp_interval`). @default {100} */
  get intervalMs(): number {
    return this.#interval;
  }

  set intervalMs(ms: number) {
    checkInteger("set kcp intervalMs", "intervalMs", ms, 0, 0x7fffffff);
    this.#interval = ms > 5000 ? 5000 : ms < 10 ? 10 : ms;
  }

  // ---------------------------------------------------------------------------------------------------------
  // receive side
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Takes the next whole message (or, in stream mode, the next contiguous segments' bytes) into `buffer`.
   *
   * @param buffer Where the bytes go, from index 0. Pass a `subarray` to write elsewhere.
   * @returns The byte count (0 for a zero-length message), or a negative {@linkcode KcpRecvResult}: -1 nothing to
   *   read, -2 the next message is incomplete, -3 `buffer` is too small (nothing is consumed).
   */
  recv(buffer: Uint8Array): number {
    const queue = this.#rcvQueue;
    if (queue.length === 0) return KcpRecvResult.Empty;
    const size = this.peekSize();
    if (size < 0) return KcpRecvResult.Incomplete;
    if (size > buffer.length) return KcpRecvResult.BufferTooSmall;
    const recover = queue.length >= this.#rcvWnd;
    let len = 0;
    while (queue.length > 0) {
      const seg = queue.shift()!;
      copyBytes(seg.data, 0, buffer, len, seg.len);
      len += seg.len;
      const frg = seg.frg;
      releaseSegment(seg);
      if (frg === 0) break;
    }
    this.#moveToRcvQueue();
    // The peer saw a full window and is probing: tell it at once that there is room again.
    if (queue.length < this.#rcvWnd && recover) this.#probe |= ASK_TELL;
    return len;
  }

  /**
   * The size of the next message `recv` would return (`ikcp_peeksize`).
   *
   * @returns Its byte count, or -1 when there is nothing whole to read.
   */
  peekSize(): number {
    const queue = this.#rcvQueue;
    if (queue.length === 0) return -1;
    const first = queue.at(0);
    if (first.frg === 0) return first.len;
    if (queue.length < first.frg + 1) return -1;
    let length = 0;
    for (let i = 0; i < queue.length; i++) {
      const seg = queue.at(i);
      length += seg.len;
      if (seg.frg === 0) break;
    }
    return length;
  }

  // ---------------------------------------------------------------------------------------------------------
  // send side
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Queues `data` for sending; it goes out on a later `update()`/`flush()`. The bytes are copied, so the caller may
   * reuse `data` at once. In message mode the data is one message of up to {@linkcode KCP_MAX_FRAGMENTS} · mss
   * bytes (a zero-length message is allowed); in stream mode it is appended to the byte stream.
   *
   * The send queue is not bounded here: check {@linkcode Kcp.waitSnd} before sending to apply back-pressure.
   *
   * @param data The bytes.
   * @returns The number of bytes queued, or {@linkcode KcpSendResult.TooLarge} (-2) when a message needs more than
   *   {@linkcode KCP_MAX_FRAGMENTS} fragments (in stream mode, -2 only when not even a top-up of the last queued
   *   segment was possible; otherwise the count of the bytes that were queued).
   */
  send(data: Uint8Array): number {
    const mss = this.#mss;
    let len = data.length;
    let off = 0;
    let sent = 0;
    if (this.#stream) {
      // Top up the last segment still in the send queue (not one already in flight).
      const queue = this.#sndQueue;
      if (queue.length > 0) {
        const old = queue.at(queue.length - 1);
        if (old.len < mss) {
          const extend = len < mss - old.len ? len : mss - old.len;
          if (old.data.length < old.len + extend) {
            const grown = new Uint8Array(mss);
            copyBytes(old.data, 0, grown, 0, old.len);
            old.data = grown;
          }
          copyBytes(data, 0, old.data, old.len, extend);
          old.len += extend;
          old.frg = 0;
          len -= extend;
          off = extend;
          sent = extend;
        }
      }
      if (len <= 0) return sent;
    }
    const count = len <= mss ? 1 : Math.floor((len + mss - 1) / mss);
    if (count > KCP_MAX_FRAGMENTS) {
      return this.#stream && sent > 0 ? sent : KcpSendResult.TooLarge;
    }
    for (let i = 0; i < count; i++) {
      const size = len > mss ? mss : len;
      const seg = acquireSegment(size, this.#mss);
      copyBytes(data, off, seg.data, 0, size);
      seg.len = size;
      seg.frg = this.#stream ? 0 : count - i - 1;
      this.#sndQueue.push(seg);
      off += size;
      len -= size;
      sent += size;
    }
    return sent;
  }

  /**
   * Segments queued or in flight (`ikcp_waitsnd`): queued but not yet sent, plus sent but not yet acknowledged.
   * A session wrapper stops accepting writes (or closes the session) when this grows past a bound of its choice,
   * e.g. twice the send window.
   *
   * @returns The segment count.
   */
  waitSnd(): number {
    return this.#sndBuf.length + this.#sndQueue.length;
  }

  // ---------------------------------------------------------------------------------------------------------
  // input
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Feeds one received datagram (`ikcp_input`). Never throws and never calls `output`; ACKs and data are sent on
   * the next flush. The bytes are copied out, so the caller may reuse `datagram` at once. Memory stays bounded
   * whatever the input: data is kept only for sequence numbers inside the receive window, and at most
   * `4 · rcvWnd` ACKs wait for a flush.
   *
   * @param datagram The datagram, one or more segments.
   * @returns {@linkcode KcpInputResult.Ok} (0), or a negative {@linkcode KcpInputResult}: -1 shorter than a header
   *   or another conv, -2 a `len` beyond the datagram, -3 an unknown command. Segments before the rejected one
   *   have been processed.
   */
  input(datagram: Uint8Array): KcpInputResult {
    const prevUna = this.#sndUna;
    const end = datagram.length;
    let maxack = 0;
    let latestTs = 0;
    let hasAck = false;
    if (end < KCP_OVERHEAD) return KcpInputResult.InvalidHeader;
    let off = 0;
    while (end - off >= KCP_OVERHEAD) {
      if (readU32LE(datagram, off) !== this.#conv) return KcpInputResult.InvalidHeader;
      const cmd = datagram[off + 4];
      const frg = datagram[off + 5];
      const wnd = readU16LE(datagram, off + 6);
      const ts = readU32LE(datagram, off + 8);
      const sn = readU32LE(datagram, off + 12);
      const una = readU32LE(datagram, off + 16);
      const len = readU32LE(datagram, off + 20);
      off += KCP_OVERHEAD;
      if (end - off < len) return KcpInputResult.InvalidLength;
      if (cmd < KcpCmd.Push || cmd > KcpCmd.WindowTell) return KcpInputResult.UnknownCommand;

      this.#rmtWnd = wnd;
      this.#parseUna(una);
      this.#shrinkBuf();
      if (cmd === KcpCmd.Ack) {
        const rtt = diff(this.#current, ts);
        if (rtt >= 0) this.#updateAck(rtt);
        this.#parseAck(sn);
        this.#shrinkBuf();
        if (!hasAck) {
          hasAck = true;
          maxack = sn;
          latestTs = ts;
        } else if (diff(sn, maxack) > 0 && diff(ts, latestTs) > 0) {
          // IKCP_FASTACK_CONSERVE: only a later ACK of a later transmission moves the mark.
          maxack = sn;
          latestTs = ts;
        }
      } else if (cmd === KcpCmd.Push) {
        if (diff(sn, this.#rcvNxt + this.#rcvWnd) < 0) {
          this.#ackPush(sn, ts);
          if (diff(sn, this.#rcvNxt) >= 0) this.#parseData(sn, frg, datagram, off, len);
        }
      } else if (cmd === KcpCmd.WindowAsk) {
        this.#probe |= ASK_TELL;
      }
      // KcpCmd.WindowTell: rmtWnd was taken above; nothing else to do.
      off += len;
    }
    if (hasAck) this.#parseFastack(maxack, latestTs);
    if (diff(this.#sndUna, prevUna) > 0 && this.#cwnd < this.#rmtWnd) {
      const mss = this.#mss;
      if (this.#cwnd < this.#ssthresh) {
        this.#cwnd++;
        this.#incr = (this.#incr + mss) >>> 0;
      } else {
        if (this.#incr < mss) this.#incr = mss;
        this.#incr = (this.#incr + Math.floor((mss * mss) / this.#incr) + Math.floor(mss / 16)) >>> 0;
        if ((this.#cwnd + 1) * mss <= this.#incr) {
          this.#cwnd = Math.floor((this.#incr + mss - 1) / (mss > 0 ? mss : 1)) >>> 0;
        }
      }
      if (this.#cwnd > this.#rmtWnd) {
        this.#cwnd = this.#rmtWnd;
        this.#incr = (this.#rmtWnd * mss) >>> 0;
      }
    }
    return KcpInputResult.Ok;
  }

  #updateAck(rtt: number): void {
    if (this.#rxSrtt === 0) {
      this.#rxSrtt = rtt;
      this.#rxRttval = Math.floor(rtt / 2);
    } else {
      const delta = rtt > this.#rxSrtt ? rtt - this.#rxSrtt : this.#rxSrtt - rtt;
      this.#rxRttval = Math.floor((3 * this.#rxRttval + delta) / 4);
      this.#rxSrtt = Math.floor((7 * this.#rxSrtt + rtt) / 8);
      if (this.#rxSrtt < 1) this.#rxSrtt = 1;
    }
    const rto = this.#rxSrtt + Math.max(this.#interval, 4 * this.#rxRttval);
    this.#rxRto = Math.min(Math.max(this.#rxMinrto, rto), RTO_MAX);
  }

  #shrinkBuf(): void {
    this.#sndUna = this.#sndBuf.length > 0 ? this.#sndBuf.at(0).sn : this.#sndNxt;
  }

  #parseAck(sn: number): void {
    if (diff(sn, this.#sndUna) < 0 || diff(sn, this.#sndNxt) >= 0) return;
    const buf = this.#sndBuf;
    for (let i = 0; i < buf.length; i++) {
      const seg = buf.at(i);
      if (seg.sn === sn) {
        releaseSegment(buf.removeAt(i));
        break;
      }
      if (diff(sn, seg.sn) < 0) break;
    }
  }

  #parseUna(una: number): void {
    const buf = this.#sndBuf;
    while (buf.length > 0 && diff(una, buf.at(0).sn) > 0) releaseSegment(buf.shift()!);
  }

  #parseFastack(sn: number, ts: number): void {
    if (diff(sn, this.#sndUna) < 0 || diff(sn, this.#sndNxt) >= 0) return;
    const buf = this.#sndBuf;
    for (let i = 0; i < buf.length; i++) {
      const seg = buf.at(i);
      if (diff(sn, seg.sn) < 0) break;
      if (sn !== seg.sn && diff(ts, seg.ts) >= 0) seg.fastack++;
    }
  }

  #ackPush(sn: number, ts: number): void {
    const n = this.#ackCount;
    if (n * 2 >= this.#acks.length) {
      const limit = ACKS_PER_RCV_WND * this.#rcvWnd;
      if (n >= limit) return; // a flood: the peer's una/retransmissions recover any ACK dropped here
      const grown = new Uint32Array(Math.min(this.#acks.length * 2, limit * 2));
      grown.set(this.#acks);
      this.#acks = grown;
    }
    this.#acks[n * 2] = sn;
    this.#acks[n * 2 + 1] = ts;
    this.#ackCount = n + 1;
  }

  #parseData(sn: number, frg: number, src: Uint8Array, off: number, len: number): void {
    const buf = this.#rcvBuf;
    // Find the insert position from the back; a duplicate is dropped before anything is allocated.
    let i = buf.length - 1;
    for (; i >= 0; i--) {
      const seg = buf.at(i);
      if (seg.sn === sn) return;
      if (diff(sn, seg.sn) > 0) break;
    }
    const seg = acquireSegment(len, this.#mss);
    seg.sn = sn;
    seg.frg = frg;
    seg.len = len;
    copyBytes(src, off, seg.data, 0, len);
    buf.insert(i + 1, seg);
    this.#moveToRcvQueue();
  }

  /** Moves in-order segments from rcv_buf to rcv_queue while the queue has room. */
  #moveToRcvQueue(): void {
    const buf = this.#rcvBuf;
    const queue = this.#rcvQueue;
    while (buf.length > 0 && buf.at(0).sn === this.#rcvNxt && queue.length < this.#rcvWnd) {
      queue.push(buf.shift()!);
      this.#rcvNxt = (this.#rcvNxt + 1) >>> 0;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // output
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Sends what is due now (`ikcp_flush`): pending ACKs, window probes, new data the windows allow, timeout and
   * fast resends, packed into datagrams of at most `mtu` bytes handed to `output`. Uses the time of the last
   * `update()` and does nothing before the first one. Normally `update()` calls it; to push ACKs or data out
   * without waiting for the next interval (e.g. right after `input()`), call `update(now)` then `flush()`.
   */
  flush(): void {
    if (!this.#updated) return;
    const current = this.#current;
    const conv = this.#conv;
    const mtu = this.#mtu;
    const priorCwnd = this.#cwnd;
    const wnd = this.#wndUnused();
    const una = this.#rcvNxt;
    let buffer = this.#buffer;
    let ptr = 0;
    // ikcp encodes WASK/WINS from the same template as the ACKs, so they carry the last ACK's sn and ts.
    let sn = 0;
    let ts = 0;

    const acks = this.#acks;
    for (let i = 0; i < this.#ackCount; i++) {
      if (ptr + KCP_OVERHEAD > mtu) {
        this.#emit(ptr);
        ptr = 0;
      }
      sn = acks[i * 2];
      ts = acks[i * 2 + 1];
      ptr = encodeSegmentHeader(buffer, ptr, conv, KcpCmd.Ack, 0, wnd, ts, sn, una, 0);
    }
    this.#ackCount = 0;

    // Probe the peer's window while it is 0.
    if (this.#rmtWnd === 0) {
      if (this.#probeWait === 0) {
        this.#probeWait = PROBE_INIT;
        this.#tsProbe = (current + this.#probeWait) >>> 0;
      } else if (diff(current, this.#tsProbe) >= 0) {
        if (this.#probeWait < PROBE_INIT) this.#probeWait = PROBE_INIT;
        this.#probeWait += Math.floor(this.#probeWait / 2);
        if (this.#probeWait > PROBE_LIMIT) this.#probeWait = PROBE_LIMIT;
        this.#tsProbe = (current + this.#probeWait) >>> 0;
        this.#probe |= ASK_SEND;
      }
    } else {
      this.#tsProbe = 0;
      this.#probeWait = 0;
    }
    if (this.#probe & ASK_SEND) {
      if (ptr + KCP_OVERHEAD > mtu) {
        this.#emit(ptr);
        ptr = 0;
      }
      ptr = encodeSegmentHeader(buffer, ptr, conv, KcpCmd.WindowAsk, 0, wnd, ts, sn, una, 0);
    }
    if (this.#probe & ASK_TELL) {
      if (ptr + KCP_OVERHEAD > mtu) {
        this.#emit(ptr);
        ptr = 0;
      }
      ptr = encodeSegmentHeader(buffer, ptr, conv, KcpCmd.WindowTell, 0, wnd, ts, sn, una, 0);
    }
    this.#probe = 0;

    // Move new data into flight as far as the windows allow.
    let cwnd = this.#sndWnd < this.#rmtWnd ? this.#sndWnd : this.#rmtWnd;
    if (!this.#nocwnd && this.#cwnd < cwnd) cwnd = this.#cwnd;
    while (diff(this.#sndNxt, this.#sndUna + cwnd) < 0) {
      const seg = this.#sndQueue.shift();
      if (seg === undefined) break;
      seg.ts = current;
      seg.sn = this.#sndNxt;
      this.#sndNxt = (this.#sndNxt + 1) >>> 0;
      seg.resendts = current;
      seg.rto = this.#rxRto;
      seg.fastack = 0;
      seg.xmit = 0;
      this.#sndBuf.push(seg);
    }

    const resent = this.#fastresend > 0 ? this.#fastresend : 0xffffffff;
    const rtomin = this.#nodelay === 0 ? this.#rxRto >> 3 : 0;
    let change = 0;
    let lost = false;
    const sndBuf = this.#sndBuf;
    for (let i = 0; i < sndBuf.length; i++) {
      const seg = sndBuf.at(i);
      let needsend = false;
      if (seg.xmit === 0) {
        needsend = true;
        seg.xmit++;
        seg.rto = this.#rxRto;
        seg.resendts = (current + seg.rto + rtomin) >>> 0;
      } else if (diff(current, seg.resendts) >= 0) {
        needsend = true;
        seg.xmit++;
        this.#xmit = (this.#xmit + 1) >>> 0;
        if (this.#nodelay === 0) {
          seg.rto = (seg.rto + Math.max(seg.rto, this.#rxRto)) >>> 0;
        } else {
          const step = this.#nodelay < 2 ? seg.rto | 0 : this.#rxRto;
          seg.rto = (seg.rto + Math.trunc(step / 2)) >>> 0;
        }
        seg.resendts = (current + seg.rto) >>> 0;
        lost = true;
      } else if (seg.fastack >= resent) {
        if (seg.xmit <= this.#fastlimit || this.#fastlimit <= 0) {
          needsend = true;
          seg.xmit++;
          seg.fastack = 0;
          seg.resendts = (current + seg.rto) >>> 0;
          change++;
        }
      }
      if (!needsend) continue;
      seg.ts = current;
      const need = KCP_OVERHEAD + seg.len;
      if (ptr + need > mtu) {
        if (ptr > 0) this.#emit(ptr);
        ptr = 0;
        // Only a segment queued before setMtu() shrank the MTU can be larger than the buffer.
        if (need > buffer.length) buffer = this.#setBuffer(need);
      }
      ptr = encodeSegmentHeader(buffer, ptr, conv, KcpCmd.Push, seg.frg, wnd, current, seg.sn, una, seg.len);
      copyBytes(seg.data, 0, buffer, ptr, seg.len);
      ptr += seg.len;
      if (seg.xmit >= this.#deadLink) this.#state = -1;
    }
    if (ptr > 0) this.#emit(ptr);

    if (change > 0) {
      // Fast resend: halve the threshold to the data in flight.
      const inflight = (this.#sndNxt - this.#sndUna) >>> 0;
      this.#ssthresh = Math.floor(inflight / 2);
      if (this.#ssthresh < THRESH_MIN) this.#ssthresh = THRESH_MIN;
      this.#cwnd = (this.#ssthresh + resent) >>> 0;
      this.#incr = (this.#cwnd * this.#mss) >>> 0;
    }
    if (lost) {
      // Timeout: ikcp 2.x halves the congestion window as it was when this flush began.
      this.#ssthresh = Math.floor(priorCwnd / 2);
      if (this.#ssthresh < THRESH_MIN) this.#ssthresh = THRESH_MIN;
      this.#cwnd = 1;
      this.#incr = this.#mss;
    }
    if (this.#cwnd < 1) {
      this.#cwnd = 1;
      this.#incr = this.#mss;
    }
  }

  /** Hands the first `size` bytes of the flush buffer to `output`. */
  #emit(size: number): void {
    const i = size & (VIEW_CACHE_SIZE - 1);
    let view = this.#views[i];
    if (view === undefined || view.length !== size) view = this.#views[i] = this.#buffer.subarray(0, size);
    this.#output(view);
  }

  #setBuffer(size: number): Uint8Array<ArrayBuffer> {
    this.#views.fill(undefined);
    return this.#buffer = new Uint8Array(size);
  }

  #wndUnused(): number {
    const n = this.#rcvQueue.length;
    return n < this.#rcvWnd ? this.#rcvWnd - n : 0;
  }

  // ---------------------------------------------------------------------------------------------------------
  // clock
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Advances the endpoint's clock to `current` and flushes when the interval is due (`ikcp_update`). Call it
   * at `check()`'s time, or every `intervalMs`. The first call starts the clock. A jump of 10 s or more either way
   * resynchronises the flush schedule.
   *
   * @param current Now, in ms, as a u32 that may wrap (e.g. `Date.now() >>> 0` or a monotonic counter). Never
   *   read from a clock by the core.
   */
  update(current: number): void {
    current = current >>> 0;
    this.#current = current;
    if (!this.#updated) {
      this.#updated = true;
      this.#tsFlush = current;
    }
    let slap = diff(current, this.#tsFlush);
    if (slap >= 10000 || slap < -10000) {
      this.#tsFlush = current;
      slap = 0;
    }
    if (slap >= 0) {
      this.#tsFlush = (this.#tsFlush + this.#interval) >>> 0;
      if (diff(current, this.#tsFlush) >= 0) this.#tsFlush = (current + this.#interval) >>> 0;
      this.flush();
    }
  }

  /**
   * When `update()` should next be called, assuming no `input()` or `send()` in between (`ikcp_check`). A server
   * with many sessions schedules each one's update at this time instead of polling every interval. After an
   * `input()` or `send()` the answer may be earlier, so ask again.
   *
   * One deliberate difference from ikcp_check: when a segment's resend time has passed but the next flush is
   * not due yet, ikcp returns `current` although `update(current)` would send nothing (a busy loop for a
   * scheduler); this returns the flush time, when the resend actually goes out. No datagram changes.
   *
   * @param current Now, in ms (u32, may wrap).
   * @returns The time (u32 ms) of the next useful `update()`: `current` if it is due now, never later than
   *   `current + intervalMs`.
   */
  check(current: number): number {
    current = current >>> 0;
    if (!this.#updated) return current;
    let tsFlush = this.#tsFlush;
    const d = diff(current, tsFlush);
    if (d >= 10000 || d < -10000) tsFlush = current;
    if (diff(current, tsFlush) >= 0) return current;
    const tmFlush = diff(tsFlush, current);
    let tmPacket = 0x7fffffff;
    const buf = this.#sndBuf;
    for (let i = 0; i < buf.length; i++) {
      const t = diff(buf.at(i).resendts, current);
      if (t <= 0) {
        // ikcp_check returns `current` here, yet update() flushes only at ts_flush: a timer driven by check()
        // would spin until then. The resend really happens at the next flush, so report that.
        tmPacket = tmFlush;
        break;
      }
      if (t < tmPacket) tmPacket = t;
    }
    let minimal = tmPacket < tmFlush ? tmPacket : tmFlush;
    if (minimal >= this.#interval) minimal = this.#interval;
    return (current + minimal) >>> 0;
  }

  // ---------------------------------------------------------------------------------------------------------
  // settings
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Sets the MTU: datagrams given to `output` are at most `mtu` bytes, segments carry at most `mtu - 24` data
   * bytes (`ikcp_setmtu`). Set it on both ends before sending.
   *
   * @param mtu Bytes, {@linkcode KCP_MIN_MTU_BYTES}..{@linkcode KCP_MAX_MTU_BYTES}.
   * @throws {RangeError} If `mtu` is out of range.
   */
  setMtu(mtu: number): void {
    checkInteger("set kcp mtu", "mtu", mtu, KCP_MIN_MTU_BYTES, KCP_MAX_MTU_BYTES);
    this.#setBuffer(mtu);
    this.#mtu = mtu;
    this.#mss = mtu - KCP_OVERHEAD;
  }

  /**
   * Sets the windows in segments (`ikcp_wndsize`). As in ikcp, the receive window is never made smaller than
   * {@linkcode DEFAULT_KCP_RCV_WND} (128), the largest message's fragment count, and 0 or less leaves a window
   * unchanged.
   *
   * @param sndWnd Send window; at most {@linkcode KCP_MAX_WND}.
   * @param rcvWnd Receive window; at most {@linkcode KCP_MAX_WND}.
   * @throws {RangeError} If a value is not an integer or above {@linkcode KCP_MAX_WND}.
   */
  setWndSize(sndWnd: number, rcvWnd: number): void {
    checkInteger("set kcp window size", "sndWnd", sndWnd, -0x80000000, KCP_MAX_WND);
    checkInteger("set kcp window size", "rcvWnd", rcvWnd, -0x80000000, KCP_MAX_WND);
    if (sndWnd > 0) this.#sndWnd = sndWnd;
    if (rcvWnd > 0) this.#rcvWnd = Math.max(rcvWnd, DEFAULT_KCP_RCV_WND);
  }

  /**
   * Tunes latency against bandwidth (`ikcp_nodelay`). The fastest setting is `setNoDelay(1, 10, 2, 1)`; the
   * defaults are `(0, 100, 0, 0)`. A negative value leaves that setting unchanged.
   *
   * @param nodelay 0 normal; 1 nodelay (minimum RTO 30 ms instead of 100, no extra delay before the first
   *   resend, each timeout grows the RTO by half instead of doubling it); 2 like 1 but growing by half the
   *   current `rx_rto`.
   * @param intervalMs Flush interval in ms, clamped to [10, 5000].
   * @param resend Fast resend after this many ACKs of later segments; 0 off.
   * @param nc 1 turns the congestion window off (only the send and remote windows limit the flight); 0 on.
   * @throws {RangeError} If a value is not an integer.
   */
  setNoDelay(nodelay: number, intervalMs: number, resend: number, nc: number): void {
    const action = "set kcp nodelay";
    checkInteger(action, "nodelay", nodelay, -0x80000000, 0x7fffffff);
    checkInteger(action, "intervalMs", intervalMs, -0x80000000, 0x7fffffff);
    checkInteger(action, "resend", resend, -0x80000000, 0x7fffffff);
    checkInteger(action, "nc", nc, -0x80000000, 0x7fffffff);
    if (nodelay >= 0) {
      this.#nodelay = nodelay;
      this.#rxMinrto = nodelay !== 0 ? RTO_NDL : RTO_MIN;
    }
    if (intervalMs >= 0) this.intervalMs = intervalMs;
    if (resend >= 0) this.#fastresend = resend;
    if (nc >= 0) this.#nocwnd = nc !== 0;
  }

  /**
   * A copy of the endpoint's counters, under ikcp's names (see {@linkcode KcpSnapshot}).
   *
   * @returns A new object.
   */
  snapshot(): KcpSnapshot {
    return {
      sndUna: this.#sndUna,
      sndNxt: this.#sndNxt,
      rcvNxt: this.#rcvNxt,
      cwnd: this.#cwnd,
      ssthresh: this.#ssthresh,
      incr: this.#incr,
      rxSrtt: this.#rxSrtt,
      rxRttval: this.#rxRttval,
      rxRto: this.#rxRto,
      rxMinrto: this.#rxMinrto,
      rmtWnd: this.#rmtWnd,
      sndWnd: this.#sndWnd,
      rcvWnd: this.#rcvWnd,
      nsndBuf: this.#sndBuf.length,
      nsndQue: this.#sndQueue.length,
      nrcvBuf: this.#rcvBuf.length,
      nrcvQue: this.#rcvQueue.length,
      xmit: this.#xmit,
      state: this.#state,
      probe: this.#probe,
      probeWait: this.#probeWait,
      tsProbe: this.#tsProbe,
      tsFlush: this.#tsFlush,
      mtu: this.#mtu,
      mss: this.#mss,
      interval: this.#interval,
    };
  }
}

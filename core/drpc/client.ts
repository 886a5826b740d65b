/**
 * The pooled cluster link client: `connNum` TCP connections to one peer's link server, each with its own
 * handshake, write queue and seqs. It implements every link interface of `core/link.ts` over the wire —
 * {@linkcode GateLink}, {@linkcode NodeLink} (as the caller named in its handshake) and {@linkcode MeshLink}.
 *
 * Order: Deliver and Trigger go on connection `cid % connNum`, Push on `target % connNum`, so one client's (or
 * one target's) frames keep their order; everything else is spread round-robin. A connection that is down hands
 * its share to the next usable one. One-way frames that cannot be queued are dropped and counted; calls reject.
 *
 * `onDown` fires when the last open connection to the peer is lost (or, before any opened, when every dial has
 * exhausted its retries); `onUp` when a connection opens again (and on the first one). A gate uses them to take a
 * node out of dispatch at once (`Dispatcher.markDown/markUp`).
 *
 * Longer than ~400 lines on purpose: the pool and the 19 link operations it routes (each a few lines) are one
 * object; the connection state machine lives in `_client_conn.ts`.
 *
 * @module
 */

import { copyBytes } from "../bytes.ts";
import type { ClusterEvent, SessionKind, State } from "../cluster.ts";
import { Kind } from "../cluster.ts";
import { DueError, ErrorCode, errorMessage } from "../errors.ts";
import type { GateLink, MeshLink, NodeLink, Peer, PushOptions } from "../link.ts";
import { silentLogger } from "../logger.ts";
import type { Logger } from "../logger.ts";
import { formatAddr, parseHostPort } from "./_addr.ts";
import { ClientConn, ConnState, parseOK, responseError } from "./_client_conn.ts";
import type { ConnOwner, ConnSettings, ParseResponse } from "./_client_conn.ts";
import {
  BIND_BYTES,
  Code,
  decodeMeshResponse,
  DELIVER_HEAD_BYTES,
  DISCONNECT_BYTES,
  encodeBroadcast,
  encodeMeshCall,
  encodeMulticast,
  encodePublish,
  encodeSubscription,
  GET_STATE_BYTES,
  MAX_TARGETS_PER_FRAME,
  PUSH_HEAD_BYTES,
  responseByte,
  responseCode,
  responseIP,
  responseTotal,
  Route,
  SESSION_QUERY_BYTES,
  SET_STATE_BYTES,
  SIZE_BYTES,
  STAT_BYTES,
  triggerBytes,
  UNBIND_BYTES,
  writeBind,
  writeDeliver,
  writeDisconnect,
  writeGetState,
  writePush,
  writeSessionQuery,
  writeSetState,
  writeStat,
  writeTrigger,
  writeUnbind,
} from "./frames.ts";
import { DEFAULT_FRAME_LIMIT_BYTES, DEFAULT_READ_BUFFER_BYTES, DEFAULT_WRITE_QUEUE_BYTES } from "./server.ts";

/** Default connections per peer (due: 5). */
export const DEFAULT_CONN_NUM = 5;
/** Default time to establish one TCP connection. */
export const DEFAULT_DIAL_TIMEOUT_MS = 3000;
/** Default retries of a failed dial before a connection counts as down (due: 3). */
export const DEFAULT_DIAL_RETRY_TIMES = 3;
/** Default time for the handshake's answer (due: 3 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 3000;
/** Default time for a call's answer (due: 3 s). */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Default heartbeat interval of an otherwise idle connection (due: 10 s). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/** Options of {@linkcode createLinkClient}. */
export interface LinkClientOptions {
  /** Connections to the peer. @default DEFAULT_CONN_NUM */
  connNum?: number;
  /** Time to establish one TCP connection. @default DEFAULT_DIAL_TIMEOUT_MS */
  dialTimeoutMs?: number;
  /** Retries (back-off 5 ms doubling to 1 s) before a connection is down. @default DEFAULT_DIAL_RETRY_TIMES */
  dialRetryTimes?: number;
  /** Time for the Handshake's answer. @default DEFAULT_HANDSHAKE_TIMEOUT_MS */
  handshakeTimeoutMs?: number;
  /** A call not answered within this rejects with `TimeoutError`. @default DEFAULT_CALL_TIMEOUT_MS */
  callTimeoutMs?: number;
  /** An idle connection sends a heartbeat this often; 0 disables. @default DEFAULT_HEARTBEAT_INTERVAL_MS */
  heartbeatIntervalMs?: number;
  /** Bound on bytes queued per connection. @default DEFAULT_WRITE_QUEUE_BYTES */
  writeQueueBytes?: number;
  /** Largest frame `size` sent or received. @default DEFAULT_FRAME_LIMIT_BYTES */
  frameLimitBytes?: number;
  /** Bytes read per socket read. @default DEFAULT_READ_BUFFER_BYTES */
  readBufferBytes?: number;
  /** Every connection to the peer failed. */
  onDown?: () => void;
  /** A connection to the peer opened (after `onDown`, and the first time). */
  onUp?: () => void;
  /** Where link events are logged. @default silent */
  logger?: Logger;
}

/** Counters of a link client. */
export interface LinkClientStats {
  /** One-way frames queued. */
  sent: number;
  /** Calls made. */
  calls: number;
  /** Frames dropped: no usable connection, write queue full, above the frame limit, or lost with a link. */
  dropped: number;
  /** Calls that timed out. */
  timeouts: number;
  /** Responses that matched no pending call (answered after their timeout). */
  late: number;
}

/** Whether the peer is reachable. */
export type LinkClientState = "connecting" | "up" | "down" | "closed";

/** A pooled client of one peer's link server. */
export interface LinkClient extends GateLink, NodeLink, MeshLink {
  /** The peer's address, `host:port`. */
  readonly addr: string;
  /** The identity sent in every handshake. */
  readonly self: Peer;
  /** Counters. */
  readonly stats: LinkClientStats;
  /** Reachability of the peer. */
  readonly state: LinkClientState;
  /** Closes every connection; pending calls reject with `ClosedError`. */
  close(): Promise<void>;
}

function checkInteger(what: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new RangeError(
      `Cannot create link client as '${what}' must be an integer >= ${min}: current value is ${value}`,
    );
  }
}

const parseTotal: ParseResponse<number> = (frame, addr) => {
  const total = responseCode(frame) === Code.OK ? responseTotal(frame) : -1;
  if (total < 0) throw responseError(frame, addr);
  return total;
};

const parseByte: ParseResponse<number> = (frame, addr) => {
  const value = responseCode(frame) === Code.OK ? responseByte(frame) : -1;
  if (value < 0) throw responseError(frame, addr);
  return value;
};

const parseOnline: ParseResponse<boolean> = (frame, addr) => parseByte(frame, addr) !== 0;

const parseState: ParseResponse<State> = (frame, addr) => {
  const state = parseByte(frame, addr);
  if (state > 3) throw responseError(frame, addr);
  return state as State;
};

const parseIP: ParseResponse<string | undefined> = (frame, addr) => {
  const ip = responseCode(frame) === Code.OK ? responseIP(frame) : null;
  if (ip === null) throw responseError(frame, addr);
  return ip;
};

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

const parseMesh: ParseResponse<Uint8Array> = (frame, addr) => {
  const response = decodeMeshResponse(frame);
  if (response === undefined) throw responseError(frame, addr);
  if (response.ok) return copyBytes(response.result);
  const code = ERROR_CODES.has(response.errorCode) ? response.errorCode as ErrorCode : ErrorCode.Internal;
  throw new DueError(
    code,
    response.message || `Cannot call mesh service at ${addr}: the peer answered InternalError`,
    {
      addr,
    },
  );
};

/** How often pending calls are checked for their deadline: a tenth of the timeout, 1 to 100 ms. */
function sweepIntervalMs(timeoutMs: number): number {
  return Math.max(1, Math.min(100, Math.floor(timeoutMs / 10)));
}

function chunks(targets: readonly number[]): (readonly number[])[] {
  if (targets.length <= MAX_TARGETS_PER_FRAME) return [targets];
  const out: number[][] = [];
  for (let i = 0; i < targets.length; i += MAX_TARGETS_PER_FRAME) {
    out.push(targets.slice(i, i + MAX_TARGETS_PER_FRAME));
  }
  return out;
}

/** The pool behind a {@linkcode LinkClient}. */
class Pool implements ConnOwner {
  readonly conns: ClientConn[];
  readonly stats: LinkClientStats = { sent: 0, calls: 0, dropped: 0, timeouts: 0, late: 0 };
  readonly settings: ConnSettings;
  state: LinkClientState = "connecting";
  #next = 0;
  readonly #onDown: (() => void) | undefined;
  readonly #onUp: (() => void) | undefined;
  readonly #debug: boolean;

  constructor(settings: ConnSettings, connNum: number, onDown?: () => void, onUp?: () => void) {
    this.settings = settings;
    this.#onDown = onDown;
    this.#onUp = onUp;
    this.#debug = settings.log.enabled("debug");
    this.conns = Array.from({ length: connNum }, (_, i) => new ClientConn(settings, this, i));
  }

  dropped(frames: number): void {
    this.stats.dropped += frames;
  }

  timedOut(): void {
    this.stats.timeouts++;
  }

  late(): void {
    this.stats.late++;
  }

  changed(): void {
    if (this.state === "closed") return;
    let open = false;
    let allDown = true;
    for (const conn of this.conns) {
      if (conn.state === ConnState.Open) open = true;
      if (conn.state !== ConnState.Down) allDown = false;
    }
    if (open && this.state !== "up") {
      this.state = "up";
      this.settings.log.info("link up", { addr: this.settings.addr });
      this.#notify(this.#onUp);
    } else if (!open && (this.state === "up" || (this.state === "connecting" && allDown))) {
      this.state = "down";
      this.settings.log.warn("link down", { addr: this.settings.addr });
      this.#notify(this.#onDown);
    }
  }

  #notify(fn: (() => void) | undefined): void {
    try {
      fn?.();
    } catch (err) {
      this.settings.log.error("link state callback failed", {
        addr: this.settings.addr,
        error: errorMessage(err),
      });
    }
  }

  /** The connection for ordering key `key` (or the next usable one), or `undefined` when none is. */
  pick(key: number): ClientConn | undefined {
    const conns = this.conns;
    const n = conns.length;
    let i = key % n;
    if (i < 0) i += n;
    for (let k = 0; k < n; k++) {
      const conn = conns[i];
      if (conn.state <= ConnState.Open) return conn;
      i = i + 1 === n ? 0 : i + 1;
    }
    return undefined;
  }

  /** A connection round-robin. */
  pickNext(): ClientConn | undefined {
    const conn = this.pick(this.#next);
    this.#next = this.#next + 1 === this.conns.length ? 0 : this.#next + 1;
    return conn;
  }

  /** Counts and logs a one-way frame that could not be queued. */
  drop(route: number, why: string): void {
    this.stats.dropped++;
    if (this.#debug) this.settings.log.debug("frame dropped", { addr: this.settings.addr, route, why });
  }

  /** A connection for a call (round-robin), or the error to reject it with. */
  #forCall(): ClientConn | DueError {
    this.stats.calls++;
    const addr = this.settings.addr;
    if (this.state === "closed") {
      return new DueError(ErrorCode.Closed, `Cannot call at ${addr}: link closed`, { addr });
    }
    const conn = this.pickNext();
    if (conn === undefined) {
      return new DueError(ErrorCode.Unavailable, `Cannot call at ${addr}: link down`, { addr });
    }
    return conn;
  }

  call<T>(route: number, encode: (seq: number) => Uint8Array, parse: ParseResponse<T>): Promise<T> {
    const conn = this.#forCall();
    return conn instanceof DueError ? Promise.reject(conn) : conn.call(route, encode, parse);
  }

  callWith<T>(
    route: number,
    bytes: number,
    write: (buf: Uint8Array, off: number, seq: number) => number,
    parse: ParseResponse<T>,
  ): Promise<T> {
    const conn = this.#forCall();
    return conn instanceof DueError ? Promise.reject(conn) : conn.callWith(route, bytes, write, parse);
  }
}

/**
 * Creates a pooled client of the link server at `addr` (`host:port`), handshaking as `self`. Dialling starts at
 * once; frames sent before the connections open wait in their queues.
 *
 * @example
 * ```ts ignore
 * const node = createLinkClient("10.0.0.7:41234", { kind: Kind.Gate, id: "g1" }, { onDown: () => markDown("n1") });
 * node.deliver(cid, uid, packet);
 * ```
 */
export function createLinkClient(addr: string, self: Peer, options: LinkClientOptions = {}): LinkClient {
  const {
    connNum = DEFAULT_CONN_NUM,
    dialTimeoutMs = DEFAULT_DIAL_TIMEOUT_MS,
    dialRetryTimes = DEFAULT_DIAL_RETRY_TIMES,
    handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
    callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
    heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
    writeQueueBytes = DEFAULT_WRITE_QUEUE_BYTES,
    frameLimitBytes = DEFAULT_FRAME_LIMIT_BYTES,
    readBufferBytes = DEFAULT_READ_BUFFER_BYTES,
    onDown,
    onUp,
  } = options;
  if (self?.kind !== Kind.Gate && self?.kind !== Kind.Node && self?.kind !== Kind.Mesh) {
    throw new TypeError(
      `Cannot create link client as 'self.kind' must be 1, 2 or 3: current value is ${self?.kind}`,
    );
  }
  if (typeof self.id !== "string" || self.id === "") {
    throw new TypeError(
      `Cannot create link client as 'self.id' must be a non-empty string: current value is ${self.id}`,
    );
  }
  checkInteger("connNum", connNum, 1);
  checkInteger("dialTimeoutMs", dialTimeoutMs, 1);
  checkInteger("dialRetryTimes", dialRetryTimes, 0);
  checkInteger("handshakeTimeoutMs", handshakeTimeoutMs, 1);
  checkInteger("callTimeoutMs", callTimeoutMs, 1);
  checkInteger("heartbeatIntervalMs", heartbeatIntervalMs, 0);
  checkInteger("frameLimitBytes", frameLimitBytes, 1);
  checkInteger("writeQueueBytes", writeQueueBytes, frameLimitBytes + SIZE_BYTES);
  checkInteger("readBufferBytes", readBufferBytes, 1);
  const { hostname, port } = parseHostPort(addr, "Cannot create link client");
  if (port === 0) {
    throw new TypeError(`Cannot create link client as 'addr' needs a port: current value is "${addr}"`);
  }
  const peerAddr = formatAddr(hostname, port);
  const log = (options.logger ?? silentLogger).with({ link: "drpc", peer: peerAddr });
  const pool = new Pool(
    {
      addr: peerAddr,
      hostname,
      port,
      self,
      dialTimeoutMs,
      dialRetryTimes,
      handshakeTimeoutMs,
      callTimeoutMs,
      frameLimitBytes,
      writeQueueBytes,
      readBufferBytes,
      log,
    },
    connNum,
    onDown,
    onUp,
  );
  const stats = pool.stats;
  for (const conn of pool.conns) conn.start();
  const expiry = setInterval(() => {
    const now = Date.now();
    for (const conn of pool.conns) conn.expire(now);
  }, sweepIntervalMs(Math.min(callTimeoutMs, handshakeTimeoutMs)));
  Deno.unrefTimer(expiry);
  const heartbeat = heartbeatIntervalMs > 0
    ? setInterval(() => {
      for (const conn of pool.conns) conn.heartbeat();
    }, heartbeatIntervalMs)
    : undefined;

  /** The connection a one-way frame of `bytes` goes on, by ordering key; `undefined` (counted) when none. */
  function oneWay(route: number, key: number, bytes: number): ClientConn | undefined {
    let why: string;
    if (pool.state === "closed") why = "link closed";
    else if (bytes - SIZE_BYTES > frameLimitBytes) why = "above the frame limit";
    else {
      const conn = pool.pick(key);
      if (conn !== undefined) return conn;
      why = "link down";
    }
    pool.drop(route, why);
    return undefined;
  }

  function total(route: number, encode: (seq: number) => Uint8Array): Promise<number> {
    return pool.call(route, encode, parseTotal);
  }

  const client: LinkClient = {
    addr: peerAddr,
    self,
    stats,
    get state() {
      return pool.state;
    },

    // ---- NodeLink ----
    deliver(cid, uid, packet) {
      const bytes = DELIVER_HEAD_BYTES + packet.length;
      const conn = oneWay(Route.Deliver, cid, bytes);
      if (conn === undefined) return;
      const writer = conn.writer;
      const off = writer.reserve(bytes);
      if (off < 0) return pool.drop(Route.Deliver, "write queue full");
      writeDeliver(writer.buffer, off, 0, cid, uid, packet);
      writer.commit(bytes);
      stats.sent++;
    },
    trigger(event: ClusterEvent, cid, uid) {
      const bytes = triggerBytes(uid);
      const conn = oneWay(Route.Trigger, cid, bytes);
      if (conn === undefined) return;
      const writer = conn.writer;
      const off = writer.reserve(bytes);
      if (off < 0) return pool.drop(Route.Trigger, "write queue full");
      writeTrigger(writer.buffer, off, 0, event, cid, uid);
      writer.commit(bytes);
      stats.sent++;
    },
    getState() {
      return pool.callWith(Route.GetState, GET_STATE_BYTES, writeGetState, parseState);
    },
    setState(state) {
      return pool.callWith(
        Route.SetState,
        SET_STATE_BYTES,
        (b, o, seq) => writeSetState(b, o, seq, state),
        parseOK,
      );
    },

    // ---- GateLink ----
    bind(cid, uid) {
      return pool.callWith(Route.Bind, BIND_BYTES, (b, o, seq) => writeBind(b, o, seq, cid, uid), parseOK);
    },
    unbind(uid) {
      return pool.callWith(Route.Unbind, UNBIND_BYTES, (b, o, seq) => writeUnbind(b, o, seq, uid), parseOK);
    },
    getIP(kind: SessionKind, target) {
      return pool.callWith(
        Route.GetIP,
        SESSION_QUERY_BYTES,
        (b, o, seq) => writeSessionQuery(b, o, Route.GetIP, seq, kind, target),
        parseIP,
      );
    },
    stat(kind) {
      return pool.callWith(Route.Stat, STAT_BYTES, (b, o, seq) => writeStat(b, o, seq, kind), parseTotal);
    },
    isOnline(kind, target) {
      return pool.callWith(
        Route.IsOnline,
        SESSION_QUERY_BYTES,
        (b, o, seq) => writeSessionQuery(b, o, Route.IsOnline, seq, kind, target),
        parseOnline,
      );
    },
    disconnect(kind, target, force) {
      return pool.callWith(
        Route.Disconnect,
        DISCONNECT_BYTES,
        (b, o, seq) => writeDisconnect(b, o, seq, kind, target, force),
        parseOK,
      );
    },
    push(kind, target, packet, options?: PushOptions) {
      const bytes = PUSH_HEAD_BYTES + packet.length;
      const conn = oneWay(Route.Push, target, bytes);
      if (conn === undefined) return;
      const writer = conn.writer;
      const off = writer.reserve(bytes);
      if (off < 0) return pool.drop(Route.Push, "write queue full");
      writePush(writer.buffer, off, 0, kind, target, packet, options?.disconnect);
      writer.commit(bytes);
      stats.sent++;
    },
    async multicast(kind, targets, packet, options) {
      const disconnect = options?.disconnect;
      const counts = await Promise.all(
        chunks(targets).map((part) =>
          total(Route.Multicast, (seq) => encodeMulticast(seq, kind, part, packet, disconnect))
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    broadcast(kind, packet, options) {
      return total(Route.Broadcast, (seq) => encodeBroadcast(seq, kind, packet, options?.disconnect));
    },
    publish(channel, packet, options) {
      return total(Route.Publish, (seq) => encodePublish(seq, channel, packet, options?.disconnect));
    },
    async subscribe(kind, targets, channel) {
      await Promise.all(
        chunks(targets).map((part) =>
          pool.call(
            Route.Subscribe,
            (seq) => encodeSubscription(Route.Subscribe, seq, kind, part, channel),
            parseOK,
          )
        ),
      );
    },
    async unsubscribe(kind, targets, channel) {
      await Promise.all(
        chunks(targets).map((part) =>
          pool.call(
            Route.Unsubscribe,
            (seq) => encodeSubscription(Route.Unsubscribe, seq, kind, part, channel),
            parseOK,
          )
        ),
      );
    },

    // ---- MeshLink ----
    call(service, method, args, codec) {
      return pool.call(Route.MeshCall, (seq) => encodeMeshCall(seq, service, method, codec, args), parseMesh);
    },

    async close() {
      if (pool.state === "closed") return;
      pool.state = "closed";
      clearInterval(heartbeat);
      clearInterval(expiry);
      await Promise.all(pool.conns.map((conn) => conn.close()));
    },
  };
  return client;
}

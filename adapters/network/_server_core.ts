/**
 * What TCP, WebSocket and KCP servers share: the connection table and limits, the heartbeat sweep, idle close,
 * the authorize timer, and each connection's bounded, coalescing write queue ({@linkcode BaseConn}). A transport
 * supplies only how bytes are read, written and closed.
 *
 * @module
 */

import { DueError, ErrorCode } from "../../core/errors.ts";
import { LateTickGuard } from "../../core/late_tick.ts";
import { silentLogger } from "../../core/logger.ts";
import type { Logger } from "../../core/logger.ts";
import {
  classifyPacket,
  encodeHeartbeat,
  encodeTimedHeartbeat,
  nowNs,
  PacketKind,
  readU32,
} from "../../core/packet.ts";
import type { PacketFormat } from "../../core/packet.ts";
import {
  CloseReason,
  createNetworkStats,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_CONN_NUM,
  DEFAULT_WRITE_QUEUE_SIZE,
} from "./types.ts";
import { formatAddr } from "./_addr.ts";
import type {
  Conn,
  ConnHandler,
  ConnState,
  HeartbeatMechanism,
  NetworkStats,
  ServerOptions,
} from "./types.ts";

/** Silent sweeps (each half an interval) after which a connection is idle: 4 × interval/2 = 2 × interval. */
const IDLE_SWEEPS = 4;

let fallbackId = 0;
function nextFallbackId(): number {
  return ++fallbackId;
}

/** The `unavailable` error of a server that cannot listen on `addr`, saying so plainly when the port is taken. */
export function listenError(network: string, addr: string, err: unknown): DueError {
  const inUse = err instanceof Deno.errors.AddrInUse ||
    (err as { code?: unknown } | null)?.code === "EADDRINUSE";
  const why = inUse ? "address already in use" : (err as Error).message;
  return new DueError(ErrorCode.Unavailable, `Cannot listen on ${addr} (${network}): ${why}`, {
    addr,
    cause: err,
  });
}

/** The connection table and the timers of one server. */
export class ServerCore {
  readonly network: string;
  readonly format: PacketFormat;
  readonly stats: NetworkStats = createNetworkStats();
  readonly conns: Map<number, BaseConn> = new Map();
  readonly maxConnNum: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatMechanism: HeartbeatMechanism;
  readonly authorizeTimeoutMs: number;
  readonly writeQueueSize: number;
  readonly writeTimeoutMs: number;
  readonly nextId: () => number;
  readonly log: Logger;
  handler: ConnHandler | undefined;
  readonly #heartbeat: Uint8Array;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #sweepGuard: LateTickGuard | undefined;
  #sweeps = 0;
  #drained: (() => void) | undefined;

  constructor(network: string, options: ServerOptions) {
    const {
      format,
      maxConnNum = DEFAULT_MAX_CONN_NUM,
      heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
      heartbeatMechanism = "resp",
      authorizeTimeoutMs = 0,
      writeQueueSize = DEFAULT_WRITE_QUEUE_SIZE,
      writeTimeoutMs = 0,
      nextId = nextFallbackId,
      logger = silentLogger,
    } = options;
    for (const [key, value] of Object.entries({ maxConnNum, writeQueueSize })) {
      if (!(Number.isInteger(value) && value > 0)) {
        throw new RangeError(
          `Cannot create ${network} server as '${key}' must be a positive integer: current value is ${value}`,
        );
      }
    }
    for (const [key, value] of Object.entries({ heartbeatIntervalMs, authorizeTimeoutMs, writeTimeoutMs })) {
      if (!(value >= 0)) {
        throw new RangeError(
          `Cannot create ${network} server as '${key}' must be >= 0: current value is ${value}`,
        );
      }
    }
    if (heartbeatMechanism !== "resp" && heartbeatMechanism !== "tick") {
      throw new RangeError(
        `Cannot create ${network} server as 'heartbeatMechanism' must be "resp" or "tick": current value is "${heartbeatMechanism}"`,
      );
    }
    this.network = network;
    this.format = format;
    this.maxConnNum = maxConnNum;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
    this.heartbeatMechanism = heartbeatMechanism;
    this.authorizeTimeoutMs = authorizeTimeoutMs;
    this.writeQueueSize = writeQueueSize;
    this.writeTimeoutMs = writeTimeoutMs;
    this.nextId = nextId;
    this.log = logger;
    this.#heartbeat = encodeHeartbeat(format);
  }

  /** The heartbeat the server sends: with its clock when `packet.heartbeatTime` is set. */
  heartbeatPacket(): Uint8Array {
    return this.format.heartbeatTime ? encodeTimedHeartbeat(this.format, nowNs()) : this.#heartbeat;
  }

  /** Whether one more connection from `remoteHost:remotePort` may be accepted; counts and logs a refusal. */
  admit(remoteHost: string, remotePort: number): boolean {
    if (this.conns.size < this.maxConnNum) return true;
    this.stats.refused++;
    if (this.log.enabled("debug")) {
      this.log.debug("connection refused: maxConnNum reached", {
        network: this.network,
        remote: formatAddr(remoteHost, remotePort),
        maxConnNum: this.maxConnNum,
      });
    }
    return false;
  }

  /** Starts the heartbeat sweep (half an interval). */
  start(handler: ConnHandler): void {
    this.handler = handler;
    if (this.heartbeatIntervalMs > 0 || this.writeTimeoutMs > 0) {
      const period = this.heartbeatIntervalMs > 0 ? this.heartbeatIntervalMs / 2 : this.writeTimeoutMs / 2;
      const periodMs = Math.max(1, period);
      this.#sweepGuard = new LateTickGuard(periodMs, performance.now());
      this.#sweepTimer = setInterval(() => this.#sweep(), periodMs);
    }
  }

  #sweep(): void {
    const tick = this.heartbeatMechanism === "tick" && this.heartbeatIntervalMs > 0 &&
      ++this.#sweeps % 2 === 0;
    const heartbeat = tick ? this.heartbeatPacket() : undefined;
    const now = Date.now();
    // A sweep that comes late (this process was busy) excuses every connection's silence and slow write up to now.
    this.#sweepGuard!.tick(performance.now());
    const excused = this.#sweepGuard!.late;
    for (const conn of this.conns.values()) {
      if (this.heartbeatIntervalMs > 0) {
        if (conn.active || excused) {
          conn.active = false;
          conn.silentSweeps = 0;
        } else if (++conn.silentSweeps >= IDLE_SWEEPS) {
          conn.close(true, CloseReason.Idle);
          continue;
        }
      }
      if (
        this.writeTimeoutMs > 0 && !excused && conn.writeStartedAt > 0 &&
        now - conn.writeStartedAt > this.writeTimeoutMs
      ) {
        conn.close(true, CloseReason.WriteTimeout);
        continue;
      }
      if (heartbeat) conn.send(heartbeat);
    }
  }

  add(conn: BaseConn): void {
    this.conns.set(conn.id, conn);
    this.stats.accepted++;
    this.handler?.onConnect(conn);
  }

  remove(conn: BaseConn, reason: CloseReason): void {
    if (!this.conns.delete(conn.id)) return;
    this.stats.closed[reason]++;
    this.handler?.onDisconnect(conn, reason);
    if (this.conns.size === 0) this.#drained?.();
  }

  /** Closes every connection: gracefully, then forced after `graceMs`; resolves when all are gone. */
  async closeAll(graceMs: number): Promise<void> {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    if (this.conns.size === 0) return;
    const drained = new Promise<void>((resolve) => this.#drained = resolve);
    for (const conn of [...this.conns.values()]) conn.close(false, CloseReason.Shutdown);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([drained, grace]);
    clearTimeout(timer);
    for (const conn of [...this.conns.values()]) conn.close(true, CloseReason.Shutdown);
    await drained;
  }
}

/**
 * A server-side connection: protocol handling on read (liveness, heartbeats, validation) and a bounded write
 * queue whose packets queued in one tick go out in one write, one write in flight.
 */
export abstract class BaseConn implements Conn {
  readonly id: number;
  readonly network: string;
  readonly remoteAddr: string;
  readonly remoteIp: string;
  uid = 0;
  state: ConnState = "open";
  /** Set by every inbound packet; cleared by the sweep. */
  active = true;
  /** Sweeps since the last inbound packet. */
  silentSweeps = 0;
  /** `Date.now()` when the write in flight started, 0 when none. */
  writeStartedAt = 0;
  protected readonly core: ServerCore;
  #chunks: Uint8Array[] = [];
  #scheduled = false;
  #reason: CloseReason | undefined;
  #authTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onTick = () => this.#flush();

  constructor(core: ServerCore, remoteHost: string, remotePort: number) {
    this.core = core;
    this.id = core.nextId();
    this.network = core.network;
    this.remoteIp = remoteHost;
    this.remoteAddr = formatAddr(remoteHost, remotePort);
    if (core.authorizeTimeoutMs > 0) this.#armAuthorize();
  }

  /** Writes `chunks` to the socket: resolves when every byte is written. */
  protected abstract writeChunks(chunks: Uint8Array[]): Promise<void> | void;
  /** Closes the socket at once. */
  protected abstract destroy(): void;

  /** Handles one complete inbound packet (size prefix included); transports call it. */
  receive(packet: Uint8Array): void {
    if (this.state !== "open") return;
    this.active = true;
    switch (classifyPacket(this.core.format, packet, 0, packet.length)) {
      case PacketKind.Data:
        this.core.stats.packetsIn++;
        this.core.handler!.onPacket(this, packet);
        return;
      case PacketKind.Heartbeat:
        if (this.core.heartbeatMechanism === "resp") this.send(this.core.heartbeatPacket());
        return;
      case PacketKind.Noop:
        return;
      default:
        this.reject(CloseReason.InvalidPacket, "packet shorter than its header", packet.length);
    }
  }

  /** Closes the connection for a protocol violation, with a debug log. */
  reject(reason: CloseReason, why: string, size: number): void {
    const log = this.core.log;
    if (log.enabled("debug")) {
      log.debug("connection closed: bad packet", {
        network: this.network,
        cid: this.id,
        remote: this.remoteAddr,
        reason,
        why,
        size,
      });
    }
    this.close(true, reason);
  }

  /** Checks a whole-frame packet (WebSocket) against its declared size and the limit; rejects and returns false. */
  checkFrame(frame: Uint8Array): boolean {
    if (frame.length < 4) {
      this.reject(CloseReason.InvalidPacket, "frame shorter than the size prefix", frame.length);
      return false;
    }
    const size = readU32(frame, 0, this.core.format.little);
    if (size > this.core.format.maxSize) {
      this.reject(CloseReason.TooLarge, "declared size above the limit", size);
      return false;
    }
    if (size !== frame.length - 4) {
      this.reject(CloseReason.InvalidPacket, "size disagrees with the frame length", size);
      return false;
    }
    return true;
  }

  send(packet: Uint8Array): boolean {
    if (this.state !== "open") return false;
    // Only packets waiting behind a write in flight count: a burst queued within one tick (many replies arriving
    // together) leaves in the next flush and says nothing about a client that does not read.
    if (this.writeStartedAt !== 0 && this.#chunks.length >= this.core.writeQueueSize) {
      const log = this.core.log;
      if (log.enabled("debug")) {
        log.debug("connection closed: write queue full", {
          network: this.network,
          cid: this.id,
          uid: this.uid,
          queued: this.#chunks.length,
        });
      }
      this.close(true, CloseReason.QueueFull);
      return false;
    }
    this.#chunks.push(packet);
    if (!this.#scheduled && this.writeStartedAt === 0) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
    return true;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#chunks.length === 0 || this.state === "closed") return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.core.stats.packetsOut += chunks.length;
    this.writeStartedAt = Date.now();
    let pending: Promise<void> | void;
    try {
      pending = this.writeChunks(chunks);
    } catch (err) {
      this.#writeFailed(err);
      return;
    }
    if (pending) pending.then(() => this.#written(), (err) => this.#writeFailed(err));
    else this.#written();
  }

  #written(): void {
    this.writeStartedAt = 0;
    if (this.#chunks.length > 0) this.#flush();
    else if (this.state === "closing") this.#finish();
  }

  #writeFailed(err: unknown): void {
    this.writeStartedAt = 0;
    if (this.state === "closed") return;
    if (this.core.log.enabled("debug")) {
      this.core.log.debug("connection write failed", { network: this.network, cid: this.id, error: err });
    }
    this.close(true, this.#reason ?? CloseReason.Error);
  }

  bind(uid: number): void {
    this.uid = uid;
    if (this.#authTimer !== undefined) {
      clearTimeout(this.#authTimer);
      this.#authTimer = undefined;
    }
  }

  unbind(): void {
    this.uid = 0;
    if (this.core.authorizeTimeoutMs > 0 && this.state === "open" && this.#authTimer === undefined) {
      this.#armAuthorize();
    }
  }

  #armAuthorize(): void {
    this.#authTimer = setTimeout(() => {
      this.#authTimer = undefined;
      if (this.uid === 0) this.close(true, CloseReason.Unauthorized);
    }, this.core.authorizeTimeoutMs);
  }

  close(force = false, reason: CloseReason = CloseReason.Server): void {
    if (this.state === "closed") return;
    this.#reason ??= reason;
    if (!force && (this.#chunks.length > 0 || this.writeStartedAt !== 0)) {
      this.state = "closing";
      if (!this.#scheduled && this.writeStartedAt === 0) this.#flush();
      return;
    }
    this.#finish();
  }

  /** The transport saw the socket end (peer close or error). */
  ended(reason: CloseReason = CloseReason.Peer): void {
    if (this.state === "closed") return;
    this.#reason ??= reason;
    this.#finish();
  }

  #finish(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.#chunks = [];
    if (this.#authTimer !== undefined) clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    try {
      this.destroy();
    } catch {
      // already closed by the peer
    }
    this.core.remove(this, this.#reason ?? CloseReason.Server);
  }
}

/**
 * The KCP gateway server (`network.kcp.server`): due's client packets as a byte stream over KCP sessions on one UDP
 * socket (`Deno.listenDatagram`, which needs `--unstable-net`, set in `deno.json`). Each session is a
 * {@linkcode BaseConn}, so heartbeats, idle close, the authorize timer and the write queue are those of TCP and
 * WebSocket.
 *
 * How datagrams become sessions:
 * - a session is keyed by (remote address, conv); a datagram for a known key goes to that session's KCP endpoint;
 * - a datagram for an unknown key opens a session only if it is a well-formed opener: every segment carries the
 *   conv and a known command, lengths add up, and one PUSH has `sn` 0, `una` 0 and starts with a plausible packet
 *   size. Anything else (garbage, a stray ACK, a late datagram of a reaped session) is dropped and counted;
 * - a new session is *pending* until its first complete client packet arrives; only then is it admitted against
 *   `maxConnNum` and reported to the gate (`onConnect`). Pending sessions are bounded (`maxPendingSessions`), expire
 *   after `pendingTimeoutMs`, and only accept segments with a small `sn`, so a flood of openers costs little;
 * - sessions per remote IP are bounded (`maxSessionsPerIp`);
 * - a closed session's key is quarantined for `quarantineMs`: its late datagrams are dropped, not a new session;
 * - a session that receives no datagram for `idleTimeoutMs` is reaped whatever the heartbeat settings.
 *
 * One timer drives every session: sessions with data queued or in flight (or delayed ACKs) sit in a min-heap by the
 * time `Kcp.check()` names; idle sessions are not polled. With `ackNoDelay` ACKs go out at the end of the event-loop
 * turn of their input (one `setImmediate` for all sessions), riding on a reply written in that turn; writes are
 * flushed at once, and back-pressure comes from `Kcp.waitSnd()`.
 *
 * Deno's `DatagramConn` costs: `receive(buf)` reuses our buffer but allocates a promise, an address object and a
 * view per datagram; `send()` reads the bytes after it returns (so every datagram is copied) and allocates a
 * promise. `readBufferBytes`/`writeBufferBytes` cannot be applied: Deno has no way to set SO_RCVBUF/SO_SNDBUF on
 * a datagram socket, so the kernel default (`net.core.rmem_default`) applies; raise it with sysctl.
 *
 * @module
 */

import { LateTickGuard } from "../../../core/late_tick.ts";
import { listenError, ServerCore } from "../_server_core.ts";
import { formatAddr, parseListenAddr } from "../_addr.ts";
import { CloseReason } from "../types.ts";
import type { ConnHandler, NetworkStats } from "../types.ts";
import { DueHeap } from "./_due_heap.ts";
import { KcpSession, type SessionHost } from "./_session.ts";
import { SessionTable } from "./_session_table.ts";
import { isSessionOpener, pushesBelow } from "./datagram.ts";
import { KCP_OVERHEAD, readU32LE } from "./segment.ts";
import { kcpNow, resolveKcpTunables } from "./tunables.ts";
import {
  createKcpServerStats,
  DEFAULT_KCP_IDLE_TIMEOUT_MS,
  DEFAULT_KCP_LINGER_MS,
  DEFAULT_KCP_MAX_PENDING_SESSIONS,
  DEFAULT_KCP_MAX_SESSIONS_PER_IP,
  DEFAULT_KCP_PENDING_TIMEOUT_MS,
  DEFAULT_KCP_QUARANTINE_MS,
  DEFAULT_KCP_SOCKET_BUFFER_BYTES,
  type KcpServer,
  type KcpServerOptions,
} from "./server_types.ts";

export type { KcpServer, KcpServerOptions, KcpServerStats } from "./server_types.ts";

/** Pending sessions accept PUSH segments with `sn` below this only (bounds their buffered data). */
const PENDING_MAX_SN = 32;
/** Largest datagram read. */
const RECEIVE_BUFFER_BYTES = 64 * 1024;
/** Period of the housekeeping sweep (pending expiry, UDP idle, quarantine). */
const HOUSEKEEPING_MS = 250;

function checkPositive(key: string, value: number, min = 1): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new RangeError(
      `Cannot create kcp server as '${key}' must be an integer >= ${min}: current value is ${value}`,
    );
  }
}

/**
 * Creates the KCP gateway server.
 *
 * @param options Listen address, packet format, connection limits and KCP settings.
 * @returns The server; call `start(handler)`.
 * @throws {TypeError} When `addr` is not `host:port`.
 * @throws {RangeError} When an option is out of range.
 *
 * @example
 * ```ts ignore
 * import { createKcpServer } from "./server.ts";
 * import { createPacketFormat } from "../../../core/packet.ts";
 * const server = createKcpServer({ addr: ":3555", format: createPacketFormat(), noDelay: [1, 10, 2, 1] });
 * await server.start({ onConnect() {}, onPacket(conn, packet) { conn.send(packet.slice()); }, onDisconnect() {} });
 * ```
 */
export function createKcpServer(options: KcpServerOptions): KcpServer {
  const {
    readBufferBytes = DEFAULT_KCP_SOCKET_BUFFER_BYTES,
    writeBufferBytes = DEFAULT_KCP_SOCKET_BUFFER_BYTES,
    maxPendingSessions = DEFAULT_KCP_MAX_PENDING_SESSIONS,
    pendingTimeoutMs = DEFAULT_KCP_PENDING_TIMEOUT_MS,
    maxSessionsPerIp = DEFAULT_KCP_MAX_SESSIONS_PER_IP,
    idleTimeoutMs = DEFAULT_KCP_IDLE_TIMEOUT_MS,
    quarantineMs = DEFAULT_KCP_QUARANTINE_MS,
    lingerMs = DEFAULT_KCP_LINGER_MS,
  } = options;
  const listen = parseListenAddr(options.addr, "network.kcp.server.addr");
  const tunables = resolveKcpTunables("create kcp server", options);
  checkPositive("readBufferBytes", readBufferBytes);
  checkPositive("writeBufferBytes", writeBufferBytes);
  checkPositive("maxPendingSessions", maxPendingSessions);
  checkPositive("pendingTimeoutMs", pendingTimeoutMs);
  checkPositive("maxSessionsPerIp", maxSessionsPerIp);
  checkPositive("idleTimeoutMs", idleTimeoutMs);
  checkPositive("quarantineMs", quarantineMs, 0);
  checkPositive("lingerMs", lingerMs, 0);
  const core = new ServerCore("kcp", options);
  const format = core.format;
  const mss = tunables.mtu - KCP_OVERHEAD;
  const kcpStats = createKcpServerStats();
  const log = core.log;

  const table = new SessionTable(quarantineMs, core.maxConnNum + maxPendingSessions);
  const heap = new DueHeap<KcpSession>();
  let socket: Deno.DatagramConn | undefined;
  let receiving: Promise<void> | undefined;
  let accepting = false;
  let boundAddr = options.addr;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let housekeeping: ReturnType<typeof setInterval> | undefined;
  let sweepGuard: LateTickGuard | undefined;
  let lingerDone: (() => void) | undefined;
  /** Sessions whose ACKs wait for the end of the turn, and the one `setImmediate` that flushes them. */
  let acking: KcpSession[] = [];
  let spare: KcpSession[] = [];
  let ackImmediate: ReturnType<typeof setImmediate> | undefined;
  const onAckTurn = (): void => {
    ackImmediate = undefined;
    const list = acking;
    acking = spare;
    const t = now();
    for (let i = 0; i < list.length; i++) list[i].flushAcks(t);
    list.length = 0;
    spare = list;
  };

  const now = kcpNow;
  const onSendError = (err: unknown): void => {
    kcpStats.sendErrors++;
    if (log.enabled("debug")) log.debug("kcp send failed", { addr: boundAddr, error: err });
  };
  /** Sessions due in this timer run; reused. */
  const due: KcpSession[] = [];
  const onTimer = (): void => {
    timer = undefined;
    timerAt = Infinity;
    const t = now();
    for (let session = heap.peek(); session !== undefined && session.dueAt <= t; session = heap.peek()) {
      heap.delete(session);
      due.push(session);
    }
    for (let i = 0; i < due.length; i++) {
      const session = due[i];
      if (session.released) continue;
      if (session.lingering && t >= session.lingerUntil) release(session, false);
      else session.tick(t);
    }
    due.length = 0;
    arm();
  };

  /** Points the timer at the heap's first due time. */
  function arm(): void {
    const first = heap.peek();
    if (first === undefined) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      timerAt = Infinity;
      return;
    }
    if (timer !== undefined && timerAt <= first.dueAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = first.dueAt;
    timer = setTimeout(onTimer, Math.max(0, first.dueAt - now()));
  }

  const host: SessionHost = {
    tunables,
    recvBuffer: new Uint8Array(tunables.mtu),
    maxWaitSnd: tunables.windowSize[0],
    lingerMs,
    now,
    ackSoon(session) {
      session.ackPending = true;
      acking.push(session);
      ackImmediate ??= setImmediate(onAckTurn);
    },
    sendTo(datagram, addr) {
      const s = socket;
      if (s === undefined) return;
      kcpStats.datagramsOut++;
      kcpStats.bytesOut += datagram.length;
      s.send(datagram.slice(), addr).catch(onSendError);
    },
    schedule(session, dueAt) {
      if (session.heapIndex >= 0 && session.dueAt === dueAt) return;
      heap.set(session, dueAt);
      if (dueAt < timerAt) arm();
    },
    unschedule(session) {
      heap.delete(session);
    },
    promote(session) {
      if (!core.admit(session.remoteIp, session.remotePort)) {
        session.close(true, CloseReason.Server);
        return false;
      }
      table.pending--;
      session.promoted = true;
      core.add(session);
      return session.state === "open";
    },
    release,
    invalidDatagram() {
      kcpStats.invalidDatagrams++;
    },
    deadLink() {
      kcpStats.deadLinks++;
    },
  };

  /** Forgets `session` (or lets it linger first). */
  function release(session: KcpSession, linger: boolean): void {
    if (session.released) return;
    if (linger) {
      if (!session.lingering) {
        session.lingering = true;
        session.lingerUntil = now() + lingerMs;
        table.lingering++;
        heap.set(session, Math.min(session.heapIndex >= 0 ? session.dueAt : Infinity, session.lingerUntil));
        arm();
      }
      return;
    }
    session.released = true;
    heap.delete(session);
    table.remove(session, now());
    if (session.lingering) {
      session.lingering = false;
      if (--table.lingering === 0) lingerDone?.();
    }
  }

  function onDatagram(datagram: Uint8Array, addr: Deno.NetAddr): void {
    kcpStats.datagramsIn++;
    kcpStats.bytesIn += datagram.length;
    if (datagram.length < KCP_OVERHEAD) {
      kcpStats.droppedShort++;
      return;
    }
    const conv = readU32LE(datagram, 0);
    const session = table.find(conv, addr.hostname, addr.port);
    if (session !== undefined) {
      if (!session.promoted && !session.lingering && !pushesBelow(datagram, PENDING_MAX_SN)) {
        kcpStats.droppedPending++;
        return;
      }
      session.input(datagram, now());
      return;
    }
    open(datagram, conv, addr);
  }

  /** A datagram for an unknown key: maybe a new session. */
  function open(datagram: Uint8Array, conv: number, addr: Deno.NetAddr): void {
    if (!accepting || !isSessionOpener(datagram, conv, mss, format.little, format.maxSize)) {
      kcpStats.droppedUnknown++;
      return;
    }
    const ip = addr.hostname;
    if (table.isQuarantined(conv, ip, addr.port)) {
      kcpStats.droppedQuarantined++;
      return;
    }
    if (table.pending >= maxPendingSessions) {
      kcpStats.refusedPending++;
      return;
    }
    if (table.countFrom(ip) >= maxSessionsPerIp) {
      kcpStats.refusedPerIp++;
      return;
    }
    if (!core.admit(ip, addr.port)) return;
    const t = now();
    const session = new KcpSession(core, host, addr, conv, t);
    table.add(session);
    kcpStats.sessionsOpened++;
    session.input(datagram, t);
  }

  /** Expires pending sessions, reaps sessions silent at the UDP level, and ends quarantines. */
  function sweep(): void {
    const t = now();
    // This process's busy spells are not the sessions' silence: the datagrams of that time may be unread.
    const excused = sweepGuard!.tick(t);
    for (const session of table.snapshot()) {
      if (session.released) continue;
      if (session.lingering) {
        if (t >= session.lingerUntil) release(session, false);
      } else if (!session.promoted && t - Math.max(session.createdAt, excused) >= pendingTimeoutMs) {
        kcpStats.expiredPending++;
        session.close(true, CloseReason.Idle);
      } else if (t - Math.max(session.lastInputAt, excused) >= idleTimeoutMs) {
        kcpStats.idleReaped++;
        session.close(true, CloseReason.Idle);
      }
    }
    table.expireQuarantine(t);
  }

  async function receiveLoop(s: Deno.DatagramConn): Promise<void> {
    const buf = new Uint8Array(RECEIVE_BUFFER_BYTES);
    while (socket === s) {
      let datagram: Uint8Array;
      let addr: Deno.Addr;
      try {
        [datagram, addr] = await s.receive(buf);
      } catch (err) {
        if (socket !== s) break;
        kcpStats.receiveErrors++;
        if (log.enabled("debug")) log.debug("kcp receive failed", { addr: boundAddr, error: err });
        continue;
      }
      try {
        onDatagram(datagram, addr as Deno.NetAddr);
      } catch (err) {
        log.error("kcp datagram handling failed", { addr: boundAddr, error: err });
      }
    }
  }

  /** Waits until no session lingers, or until `deadline`. */
  async function waitLingering(deadline: number): Promise<void> {
    if (table.lingering === 0) return;
    let wait: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => lingerDone = resolve),
      new Promise<void>((resolve) => wait = setTimeout(resolve, Math.max(0, deadline - now()))),
    ]);
    clearTimeout(wait);
    lingerDone = undefined;
  }

  return {
    network: "kcp",
    get addr() {
      return boundAddr;
    },
    get stats(): NetworkStats {
      return core.stats;
    },
    get connCount() {
      return core.conns.size;
    },
    kcpStats,
    get sessionCount() {
      return table.size;
    },
    get pendingCount() {
      return table.pending;
    },
    get quarantineCount() {
      return table.quarantined;
    },
    start(handler: ConnHandler): Promise<void> {
      let s: Deno.DatagramConn;
      try {
        s = Deno.listenDatagram({ transport: "udp", hostname: listen.hostname, port: listen.port });
      } catch (err) {
        return Promise.reject(listenError("kcp", options.addr, err));
      }
      socket = s;
      const local = s.addr as Deno.NetAddr;
      boundAddr = formatAddr(local.hostname, local.port);
      if (log.enabled("debug")) {
        log.debug("kcp socket buffers are the kernel's: Deno cannot set SO_RCVBUF/SO_SNDBUF", {
          readBufferBytes,
          writeBufferBytes,
        });
      }
      core.start(handler);
      accepting = true;
      const sweepMs = Math.min(HOUSEKEEPING_MS, pendingTimeoutMs, idleTimeoutMs);
      sweepGuard = new LateTickGuard(sweepMs, now());
      housekeeping = setInterval(sweep, sweepMs);
      receiving = receiveLoop(s);
      return Promise.resolve();
    },
    async stop(graceMs = 1000): Promise<void> {
      const s = socket;
      if (s === undefined) return;
      const deadline = now() + graceMs;
      accepting = false;
      clearInterval(housekeeping);
      housekeeping = undefined;
      for (const session of table.snapshot()) if (!session.promoted) session.abort();
      await core.closeAll(graceMs);
      await waitLingering(deadline);
      for (const session of table.snapshot()) session.abort();
      heap.clear();
      if (ackImmediate !== undefined) clearImmediate(ackImmediate);
      ackImmediate = undefined;
      acking.length = 0;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      timerAt = Infinity;
      table.clearQuarantine();
      socket = undefined;
      try {
        s.close();
      } catch {
        // already closed
      }
      await receiving;
    },
  } satisfies KcpServer;
}

/**
 * The options, defaults, counters and interface of the KCP gateway server ({@linkcode KcpServer}); the server
 * itself is in `server.ts`.
 *
 * @module
 */

import type { NetworkServer, ServerOptions } from "../types.ts";
import type { KcpTunables } from "./tunables.ts";

/** Default UDP socket buffer sizes (not applied: Deno cannot set SO_RCVBUF/SO_SNDBUF, see `server.ts`). */
export const DEFAULT_KCP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Default bound of sessions whose first client packet has not arrived yet. */
export const DEFAULT_KCP_MAX_PENDING_SESSIONS = 128;
/** Default time a pending session may take to deliver its first client packet. */
export const DEFAULT_KCP_PENDING_TIMEOUT_MS = 5_000;
/** Default bound of sessions per remote IP (pending, open and lingering). */
export const DEFAULT_KCP_MAX_SESSIONS_PER_IP = 256;
/** Default time a session may receive no datagram at all before it is reaped. */
export const DEFAULT_KCP_IDLE_TIMEOUT_MS = 60_000;
/** Default time a closed session's key drops late datagrams. */
export const DEFAULT_KCP_QUARANTINE_MS = 10_000;
/** Default time a gracefully closed session keeps retransmitting unacknowledged data. */
export const DEFAULT_KCP_LINGER_MS = 2_000;

/** Options of `createKcpServer()` (`server.ts`). */
export interface KcpServerOptions extends ServerOptions, KcpTunables {
  /** Requested UDP receive buffer; validated but not applied (Deno cannot set it). @default 4 MiB */
  readBufferBytes?: number;
  /** Requested UDP send buffer; validated but not applied (Deno cannot set it). @default 4 MiB */
  writeBufferBytes?: number;
  /** Sessions waiting for their first complete client packet; more openers are dropped. @default 128 */
  maxPendingSessions?: number;
  /** A pending session that has not delivered a complete client packet after this long is dropped. @default 5000 */
  pendingTimeoutMs?: number;
  /** Sessions per remote IP, pending, open or lingering; more openers from that IP are dropped. @default 256 */
  maxSessionsPerIp?: number;
  /** A session that receives no datagram for this long is closed as idle (UDP has no close). @default 60000 */
  idleTimeoutMs?: number;
  /** A closed session's (address, conv) drops datagrams for this long instead of opening a session. @default 10000 */
  quarantineMs?: number;
  /** A gracefully closed session retransmits unacknowledged data for up to this long; 0 = not at all. @default 2000 */
  lingerMs?: number;
}

/** Counters of the UDP side of a {@linkcode KcpServer}. */
export interface KcpServerStats {
  /** Datagrams received. */
  datagramsIn: number;
  /** Datagrams sent. */
  datagramsOut: number;
  /** Bytes received in datagrams. */
  bytesIn: number;
  /** Bytes sent in datagrams. */
  bytesOut: number;
  /** Sessions opened (pending included). */
  sessionsOpened: number;
  /** Datagrams shorter than a segment header. */
  droppedShort: number;
  /** Datagrams for an unknown (address, conv) that are not a valid opener. */
  droppedUnknown: number;
  /** Datagrams for a quarantined (address, conv). */
  droppedQuarantined: number;
  /** Datagrams for a pending session with an `sn` beyond its small window. */
  droppedPending: number;
  /** Datagrams a session's KCP endpoint rejected in part (bad length, command or conv). */
  invalidDatagrams: number;
  /** Openers refused: `maxPendingSessions` reached. */
  refusedPending: number;
  /** Openers refused: `maxSessionsPerIp` reached. */
  refusedPerIp: number;
  /** Pending sessions dropped after `pendingTimeoutMs`. */
  expiredPending: number;
  /** Sessions closed after `idleTimeoutMs` without a datagram. */
  idleReaped: number;
  /** Sessions closed because a segment went unacknowledged `deadLink` times. */
  deadLinks: number;
  /** Sends that failed. */
  sendErrors: number;
  /** Receives that failed (the loop goes on). */
  receiveErrors: number;
}

/** A KCP {@linkcode NetworkServer} with its UDP counters. */
export interface KcpServer extends NetworkServer {
  /** UDP and session counters. */
  readonly kcpStats: KcpServerStats;
  /** Sessions held: pending, open and lingering. */
  readonly sessionCount: number;
  /** Sessions waiting for their first complete client packet. */
  readonly pendingCount: number;
  /** Keys in quarantine. */
  readonly quarantineCount: number;
}

/** Zeroed {@linkcode KcpServerStats}. */
export function createKcpServerStats(): KcpServerStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    sessionsOpened: 0,
    droppedShort: 0,
    droppedUnknown: 0,
    droppedQuarantined: 0,
    droppedPending: 0,
    invalidDatagrams: 0,
    refusedPending: 0,
    refusedPerIp: 0,
    expiredPending: 0,
    idleReaped: 0,
    deadLinks: 0,
    sendErrors: 0,
    receiveErrors: 0,
  };
}

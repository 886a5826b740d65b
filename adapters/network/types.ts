/**
 * The network interface of gates: servers that accept client connections (TCP, WebSocket, KCP) and the
 * connections they hold. Heartbeats, idle close, limits and write queues live below this interface, so the gate
 * sees only connects, data packets and disconnects.
 *
 * @module
 */

import type { Logger } from "../../core/logger.ts";
import type { PacketFormat } from "../../core/packet.ts";

/** Why a connection closed. */
export const CloseReason = {
  /** The peer closed it. */
  Peer: "peer",
  /** Nothing arrived for more than 2 × heartbeatInterval. */
  Idle: "idle",
  /** No uid was bound within authorizeTimeout. */
  Unauthorized: "unauthorized",
  /** A packet broke the protocol (too short, size disagreeing with a WebSocket frame, …). */
  InvalidPacket: "invalid_packet",
  /** A packet declared a size above the inbound limit. */
  TooLarge: "too_large",
  /** The write queue overflowed (a client that does not read). */
  QueueFull: "queue_full",
  /** A write stayed in flight longer than writeTimeout. */
  WriteTimeout: "write_timeout",
  /** The server closed it on request (disconnect, kick). */
  Server: "server",
  /** The server is stopping. */
  Shutdown: "shutdown",
  /** A socket error. */
  Error: "error",
} as const;
/** One of the values of {@linkcode CloseReason}. */
export type CloseReason = typeof CloseReason[keyof typeof CloseReason];

/** Connection states. */
export type ConnState = "open" | "closing" | "closed";

/** A client connection held by a gate. */
export interface Conn {
  /** The connection id (cid), unique within its gate. */
  readonly id: number;
  /** The network: `tcp`, `ws`, `kcp`. */
  readonly network: string;
  /** The peer's address, `host:port`. */
  readonly remoteAddr: string;
  /** The peer's IP address. */
  readonly remoteIp: string;
  /** The bound user id, 0 when none. */
  readonly uid: number;
  /** The connection's state. */
  readonly state: ConnState;
  /**
   * Queues a complete client packet for writing. Packets queued in one tick go out in one write.
   * Returns `false` (and closes the connection with {@linkcode CloseReason.QueueFull}) when the write queue is full,
   * or `false` when the connection is not open.
   */
  send(packet: Uint8Array): boolean;
  /** Binds a user id: cancels the authorize timer. */
  bind(uid: number): void;
  /** Unbinds the user id: re-arms the authorize timer. */
  unbind(): void;
  /**
   * Closes the connection. Graceful (default): queued packets are written first. Forced: at once.
   * @param reason recorded and reported to `onDisconnect`
   */
  close(force?: boolean, reason?: CloseReason): void;
}

/** What a server reports to its owner (the gate). */
export interface ConnHandler {
  /** A connection was accepted. */
  onConnect(conn: Conn): void;
  /**
   * A data packet arrived (size prefix included). The bytes are valid only during the call: copy them to keep them.
   */
  onPacket(conn: Conn, packet: Uint8Array): void;
  /** A connection closed; called once per connection, after it is fully closed. */
  onDisconnect(conn: Conn, reason: CloseReason): void;
}

/** Counters every server keeps (plain numbers, read by `stat` and logs). */
export interface NetworkStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections refused because `maxConnNum` was reached. */
  refused: number;
  /** Connections closed, by reason. */
  closed: Record<CloseReason, number>;
  /** Data packets received. */
  packetsIn: number;
  /** Packets written. */
  packetsOut: number;
  /** WebSocket text frames ignored. */
  ignoredFrames: number;
}

/** Creates zeroed {@linkcode NetworkStats}. */
export function createNetworkStats(): NetworkStats {
  const closed = {} as Record<CloseReason, number>;
  for (const reason of Object.values(CloseReason)) closed[reason] = 0;
  return { accepted: 0, refused: 0, closed, packetsIn: 0, packetsOut: 0, ignoredFrames: 0 };
}

/** `heartbeatMechanism`: `resp` answers each client heartbeat; `tick` sends one every interval. */
export type HeartbeatMechanism = "resp" | "tick";

/** Options shared by every network server. */
export interface ServerOptions {
  /** Listen address: `":3553"`, `"127.0.0.1:3553"`, `"[::1]:3553"`; port 0 picks a free port. */
  addr: string;
  /** The packet layout. */
  format: PacketFormat;
  /** Connections beyond this are refused. @default 5000 */
  maxConnNum?: number;
  /** Heartbeat interval in ms; idle close after 2 × this; 0 disables both. @default 10000 */
  heartbeatIntervalMs?: number;
  /** @default "resp" */
  heartbeatMechanism?: HeartbeatMechanism;
  /** Close a connection with no bound uid after this many ms; 0 = off. @default 0 */
  authorizeTimeoutMs?: number;
  /**
   * Packets that may wait per connection behind a write in flight before it is closed as not reading. A burst
   * queued within one tick while no write is in flight leaves in one write and is not limited. @default 1024
   */
  writeQueueSize?: number;
  /** Close a connection whose write stays in flight this long; 0 = no limit. @default 0 */
  writeTimeoutMs?: number;
  /** TLS certificate file (PEM). */
  certFile?: string;
  /** TLS key file (PEM). */
  keyFile?: string;
  /** Allocates connection ids; a gate shares one across its networks. @default a counter from 1 */
  nextId?: () => number;
  /** @default silent */
  logger?: Logger;
}

/** A server that accepts client connections on one network. */
export interface NetworkServer {
  /** `tcp`, `ws`, `kcp`. */
  readonly network: string;
  /** The bound address after {@linkcode NetworkServer.start}, `host:port`. */
  readonly addr: string;
  /** Counters. */
  readonly stats: NetworkStats;
  /** Open connections. */
  readonly connCount: number;
  /** Starts listening; rejects with a clear error when the port is in use. */
  start(handler: ConnHandler): Promise<void>;
  /** Stops accepting, closes every connection (gracefully, then forced after `graceMs`), releases the port. */
  stop(graceMs?: number): Promise<void>;
}

/** Default connection limit. */
export const DEFAULT_MAX_CONN_NUM = 5000;
/** Default heartbeat interval. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** Default write queue length in packets. */
export const DEFAULT_WRITE_QUEUE_SIZE = 1024;

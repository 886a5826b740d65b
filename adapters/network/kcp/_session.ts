/**
 * Private to `kcp/`: one KCP session of the gateway, a {@linkcode BaseConn} whose bytes travel over a
 * {@linkcode Kcp} endpoint in stream mode. Inbound segments are read out of KCP into a {@linkcode FrameReader},
 * whose packets go to `receive()`; outbound packets, coalesced per tick by `BaseConn`, go into `kcp.send()` and are
 * flushed at once. The server (`server.ts`) owns the socket, the session table and the one timer that drives
 * every session's `update()`; a session reaches it through {@linkcode SessionHost}.
 *
 * `ackNoDelay` means "ACK in this event-loop turn", not "ACK in a datagram of its own": the ACK waits for the end
 * of the turn, so a reply written in the same turn (the monolith answers within microtasks) carries it. Measured
 * with `bench/kcp.ts` (50 connections, one request in flight each): 4.0 → 2.0 server datagrams per echo, about
 * 30k → 45k echoes/s.
 *
 * @module
 */

import { FeedResult, FrameReader } from "../../../core/frame_reader.ts";
import { BaseConn, type ServerCore } from "../_server_core.ts";
import { CloseReason } from "../types.ts";
import type { DueItem } from "./_due_heap.ts";
import type { Kcp } from "./kcp.ts";
import { createStreamKcp, nextUpdateAt, type ResolvedKcpTunables, sendStream } from "./tunables.ts";

/** What a session needs from its server. */
export interface SessionHost {
  readonly tunables: ResolvedKcpTunables;
  /** Shared buffer for `kcp.recv`, at least one MTU: the bytes are consumed synchronously. */
  readonly recvBuffer: Uint8Array;
  /** Segments queued or in flight above which writes wait (back-pressure). */
  readonly maxWaitSnd: number;
  /** How long a gracefully closed session keeps retransmitting its unacknowledged data. */
  readonly lingerMs: number;
  /** The server's monotonic clock in integer ms. */
  now(): number;
  /**
   * Flushes the session's pending ACKs at the end of this event-loop turn (`setImmediate`), unless a write
   * flushes them first: a reply produced in the same turn then carries the ACK.
   */
  ackSoon(session: KcpSession): void;
  /** Sends a datagram to the session's peer (copied before returning). */
  sendTo(datagram: Uint8Array, addr: Deno.NetAddr): void;
  /** Runs `session.tick()` at `dueAt`. */
  schedule(session: KcpSession, dueAt: number): void;
  /** Stops running `session.tick()`. */
  unschedule(session: KcpSession): void;
  /** The first complete client packet arrived: admit the session as a connection; `false` refuses it. */
  promote(session: KcpSession): boolean;
  /** The session is closed: forget it, or let it linger until its data is acknowledged. */
  release(session: KcpSession, linger: boolean): void;
  /** A datagram the session's endpoint rejected (bad length, command or conv inside). */
  invalidDatagram(): void;
  /** A session's link died (a segment was sent `deadLink` times unacknowledged). */
  deadLink(): void;
}

/** A KCP session keyed by (remote address, conv). */
export class KcpSession extends BaseConn implements DueItem {
  dueAt = 0;
  heapIndex = -1;
  /** The conversation id. */
  readonly conv: number;
  /** The peer's port (the host is `remoteIp`). */
  readonly remotePort: number;
  /** The peer, as `DatagramConn.send` takes it; made once. */
  readonly netAddr: Deno.NetAddr;
  readonly kcp: Kcp;
  /** The next session with the same conv (another peer), in the server's table. */
  nextSameConv: KcpSession | undefined;
  /** Admitted as a connection (its first complete client packet arrived). */
  promoted = false;
  /** Closed, but still retransmitting unacknowledged data. */
  lingering = false;
  /** Gone from the server's table. */
  released = false;
  /** ACKs wait for the end of the turn ({@linkcode SessionHost.ackSoon}). */
  ackPending = false;
  /** When a lingering session is dropped whatever remains unacknowledged. */
  lingerUntil = 0;
  /** When the session was created (server clock). */
  readonly createdAt: number;
  /** When the last datagram arrived (server clock). */
  lastInputAt: number;
  readonly #host: SessionHost;
  readonly #reader: FrameReader;
  #forced = false;
  #needsFlush = false;
  #drain: (() => void) | undefined;
  readonly #onPacket = (packet: Uint8Array): void => {
    if (!this.promoted && !this.#host.promote(this)) {
      this.#reader.stop();
      return;
    }
    this.receive(packet);
  };

  constructor(core: ServerCore, host: SessionHost, addr: Deno.NetAddr, conv: number, now: number) {
    super(core, addr.hostname, addr.port);
    this.#host = host;
    this.conv = conv;
    this.remotePort = addr.port;
    this.netAddr = { transport: "udp", hostname: addr.hostname, port: addr.port };
    this.createdAt = now;
    this.lastInputAt = now;
    const netAddr = this.netAddr;
    this.kcp = createStreamKcp(conv, (datagram) => host.sendTo(datagram, netAddr), host.tunables);
    const format = core.format;
    this.#reader = new FrameReader({ little: format.little, maxSize: format.maxSize }, this.#onPacket);
  }

  /** Feeds one datagram of this session: segments into KCP, stream bytes into the framer, then ACKs. */
  input(datagram: Uint8Array, now: number): void {
    this.lastInputAt = now;
    const kcp = this.kcp;
    // The endpoint's clock must be now for its RTT samples; this runs a flush only if one is due anyway.
    kcp.update(now >>> 0);
    if (kcp.input(datagram) < 0) this.#host.invalidDatagram();
    // Any valid datagram proves the client is there, even one of only ACKs or of segments held back behind a lost
    // one: on a lossy link the heartbeat itself may wait for a retransmission longer than the idle limit allows.
    else this.active = true;
    this.#readAll();
    if (this.released) return;
    if (kcp.hasPendingAcks) {
      if (!this.#host.tunables.ackNoDelay) this.#needsFlush = true;
      else if (!this.ackPending) this.#host.ackSoon(this);
    }
    this.#afterIo(now);
  }

  /** Sends the ACKs that waited for the end of the turn, if no write has sent them. */
  flushAcks(now: number): void {
    if (!this.ackPending || this.released) return;
    this.ackPending = false;
    this.kcp.flush();
    this.#afterIo(now);
  }

  /** Runs the endpoint's clock: retransmissions, delayed ACKs, window probes. */
  tick(now: number): void {
    this.#needsFlush = false;
    this.kcp.update(now >>> 0);
    this.#afterIo(now);
  }

  /** Drops the session at once, whatever it still has to send (the server is stopping). */
  abort(): void {
    this.#forced = true;
    if (this.state !== "closed") this.close(true, CloseReason.Shutdown);
    else if (!this.released) this.#host.release(this, false);
  }

  override close(force = false, reason?: CloseReason): void {
    if (force) this.#forced = true;
    super.close(force, reason);
  }

  protected writeChunks(chunks: Uint8Array[]): Promise<void> | void {
    if (this.released) return;
    const kcp = this.kcp;
    for (const chunk of chunks) sendStream(kcp, chunk);
    const now = this.#host.now();
    kcp.update(now >>> 0);
    kcp.flush();
    this.ackPending = false;
    this.#afterIo(now);
    if (this.released || kcp.waitSnd() < this.#host.maxWaitSnd) return;
    return new Promise<void>((resolve) => this.#drain = resolve);
  }

  protected destroy(): void {
    const linger = !this.#forced && this.promoted && this.#host.lingerMs > 0 && this.kcp.waitSnd() > 0;
    this.#wakeWriter();
    this.#host.release(this, linger);
  }

  /** Moves every in-order byte out of KCP into the framer (or discards it once the session is closing). */
  #readAll(): void {
    const kcp = this.kcp;
    const buf = this.#host.recvBuffer;
    let n: number;
    while ((n = kcp.recv(buf)) >= 0) {
      if (n === 0 || this.state !== "open") continue;
      if (this.#reader.feed(buf.subarray(0, n)) === FeedResult.TooLarge) {
        this.reject(CloseReason.TooLarge, "declared size above the limit", this.#reader.lastSize);
      }
    }
  }

  /** After input, output or a tick: a dead link, back-pressure, linger, and when to run next. */
  #afterIo(now: number): void {
    const kcp = this.kcp;
    if (kcp.state === -1) {
      this.#host.deadLink();
      this.#forced = true;
      if (this.lingering) this.#host.release(this, false);
      else this.ended(CloseReason.Error);
      return;
    }
    const waiting = kcp.waitSnd();
    if (waiting < this.#host.maxWaitSnd) this.#wakeWriter();
    if (this.lingering && waiting === 0) {
      this.#host.release(this, false);
      return;
    }
    if (waiting > 0 || this.#needsFlush) {
      this.#host.schedule(this, nextUpdateAt(kcp, now));
    } else {
      this.#host.unschedule(this);
    }
  }

  #wakeWriter(): void {
    const wake = this.#drain;
    if (wake === undefined) return;
    this.#drain = undefined;
    wake();
  }
}

/**
 * A raw KCP peer for the gateway tests: its own UDP socket and {@linkcode Kcp} endpoint (stream mode, the gate's
 * default settings), so a test can speak the client protocol over KCP *and* inject arbitrary datagrams from the
 * same address, send every datagram twice, or stop acknowledging. Plus builders of hand-made datagrams.
 *
 * @module
 */
import { encodeSegmentHeader, type Kcp, KCP_OVERHEAD, KcpCmd } from "../../adapters/network/kcp/mod.ts";
import { createStreamKcp, kcpNow, resolveKcpTunables } from "../../adapters/network/kcp/tunables.ts";
import { parseAddr } from "../../client/_addr.ts";
import { FrameReader } from "../../core/frame_reader.ts";
import { createPacketFormat, type DecodedPacket, decodePacket, encodeMessage } from "../../core/packet.ts";
import type { PacketFormat } from "../../core/packet.ts";

/**
 * A datagram of one PUSH segment.
 *
 * @param conv The conv.
 * @param sn The segment's sequence number (0 opens a session).
 * @param data The segment's data.
 * @param una The sender's next expected sn.
 * @returns The datagram.
 */
export function pushDatagram(conv: number, sn: number, data: Uint8Array, una = 0): Uint8Array {
  const out = new Uint8Array(KCP_OVERHEAD + data.length);
  encodeSegmentHeader(out, 0, conv, KcpCmd.Push, 0, 256, 0, sn, una, data.length);
  out.set(data, KCP_OVERHEAD);
  return out;
}

/** A session opener whose first client packet is the no-op `00 00 00 00` (the session opens at once). */
export function openerDatagram(conv: number): Uint8Array {
  return pushDatagram(conv, 0, new Uint8Array(4));
}

/** A session opener whose first client packet declares `size` bytes but carries none (the session stays pending). */
export function pendingOpenerDatagram(conv: number, size = 10): Uint8Array {
  return pushDatagram(conv, 0, new Uint8Array([0, 0, 0, size]));
}

/** Options of {@linkcode RawKcpPeer.open}. */
export interface RawKcpPeerOptions {
  /** The conv. @default random */
  conv?: number;
  /** Local address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Send each datagram twice. @default false */
  duplicate?: boolean;
  /** The packet layout. @default big endian, route 2, seq 2 */
  format?: PacketFormat;
}

/** A KCP peer driven by a 10 ms interval. */
export class RawKcpPeer {
  readonly socket: Deno.DatagramConn;
  readonly kcp: Kcp;
  readonly format: PacketFormat;
  readonly target: Deno.NetAddr;
  /** Decoded packets received (copies). */
  readonly packets: DecodedPacket[] = [];
  /** Datagrams received from the gate. */
  datagramsIn = 0;
  /** When false, datagrams from the gate are counted and dropped: the peer never acknowledges. */
  acking = true;
  duplicate: boolean;
  readonly #reader: FrameReader;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #loop: Promise<void>;
  #closed = false;

  private constructor(target: Deno.NetAddr, options: RawKcpPeerOptions) {
    const { conv = 1 + Math.floor(Math.random() * 0xfffffff0), hostname = "127.0.0.1", duplicate = false } =
      options;
    this.format = options.format ?? createPacketFormat();
    this.target = target;
    this.duplicate = duplicate;
    this.socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.kcp = createStreamKcp(conv, (d) => {
      this.inject(d.slice());
      if (this.duplicate) this.inject(d.slice());
    }, resolveKcpTunables("open raw KCP peer", {}));
    this.#reader = new FrameReader({ little: this.format.little, maxSize: 1 << 20 }, (frame) => {
      const decoded = decodePacket(this.format, frame.slice());
      if (decoded) this.packets.push(decoded);
    });
    this.#timer = setInterval(() => this.kcp.update(now()), 10);
    this.#loop = this.#receive();
  }

  /** Binds a socket and sends the opener (`00 00 00 00`) to `addr`. */
  static open(addr: string, options: RawKcpPeerOptions = {}): RawKcpPeer {
    const peer = new RawKcpPeer({ transport: "udp", ...parseAddr(addr, "open raw KCP peer") }, options);
    peer.write(new Uint8Array(4));
    return peer;
  }

  /** The conv. */
  get conv(): number {
    return this.kcp.conv;
  }

  /** Queues bytes on the KCP stream and flushes. */
  write(bytes: Uint8Array): void {
    this.kcp.send(bytes);
    this.kcp.update(now());
    this.kcp.flush();
  }

  /** Sends a data packet with a JSON body. */
  request(route: number, seq: number, body: unknown): void {
    this.write(encodeMessage(this.format, route, seq, new TextEncoder().encode(JSON.stringify(body))));
  }

  /** Sends raw bytes as one datagram from this peer's address. */
  inject(datagram: Uint8Array): void {
    if (this.#closed) return;
    this.socket.send(datagram, this.target).catch(() => {});
  }

  /** Data packets received, decoded as JSON. */
  data(): { route: number; seq: number; body: unknown }[] {
    const out = [];
    for (const p of this.packets) {
      if (p.kind !== "data") continue;
      out.push({ route: p.route, seq: p.seq, body: JSON.parse(new TextDecoder().decode(p.payload)) });
    }
    return out;
  }

  /** Closes the socket and the timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.socket.close();
    await this.#loop;
  }

  async #receive(): Promise<void> {
    const buf = new Uint8Array(65536);
    const recv = new Uint8Array(65536);
    for (;;) {
      let datagram: Uint8Array;
      try {
        [datagram] = await this.socket.receive(buf);
      } catch {
        return;
      }
      this.datagramsIn++;
      if (!this.acking) continue;
      this.kcp.update(now());
      this.kcp.input(datagram);
      let n: number;
      while ((n = this.kcp.recv(recv)) >= 0) this.#reader.feed(recv.subarray(0, n));
      this.kcp.flush();
    }
  }
}

function now(): number {
  return kcpNow() >>> 0;
}

/**
 * A deliberately small TCP client for tests that need to see the bytes: it sends raw bytes and collects the
 * decoded packets the server writes back.
 *
 * @module
 */
import { FrameReader } from "../../core/frame_reader.ts";
import { createPacketFormat, decodePacket, encodeMessage } from "../../core/packet.ts";
import type { DecodedPacket, PacketFormat } from "../../core/packet.ts";

/** A raw test client. */
export class RawClient {
  readonly conn: Deno.TcpConn;
  readonly format: PacketFormat;
  readonly packets: DecodedPacket[] = [];
  closed = false;
  readonly done: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn, format: PacketFormat) {
    this.conn = conn;
    this.format = format;
    const reader = new FrameReader({ little: format.little, maxSize: 1 << 24 }, (frame) => {
      const decoded = decodePacket(format, frame.slice());
      if (decoded) this.packets.push(decoded);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.done = (async () => {
      const buf = new Uint8Array(65536);
      try {
        while (true) {
          const n = await conn.read(buf);
          if (n === null) break;
          reader.feed(buf.subarray(0, n));
        }
      } catch {
        // reset by peer
      }
      this.closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
      for (const wake of this.#waiters.splice(0)) wake();
    })();
  }

  /** Connects to `addr` ("host:port"). */
  static async connect(addr: string, format: PacketFormat = createPacketFormat()): Promise<RawClient> {
    const [hostname, port] = [
      addr.slice(0, addr.lastIndexOf(":")),
      Number(addr.slice(addr.lastIndexOf(":") + 1)),
    ];
    const conn = await Deno.connect({ hostname: hostname === "0.0.0.0" ? "127.0.0.1" : hostname, port });
    return new RawClient(conn, format);
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Sends a data packet with a JSON payload. */
  send(route: number, seq: number, data?: unknown): Promise<void> {
    const payload = data === undefined ? undefined : new TextEncoder().encode(JSON.stringify(data));
    return this.write(encodeMessage(this.format, route, seq, payload));
  }

  /** Waits until `predicate` holds over the packets received (or the connection closes, or `timeoutMs`). */
  async until(predicate: (packets: DecodedPacket[]) => boolean, timeoutMs = 3000): Promise<DecodedPacket[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.packets)) {
      if (this.closed) {
        throw new Error(`connection closed before the condition held (${this.packets.length} packets)`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms with ${this.packets.length} packets`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.packets;
  }

  /** Data packets received, decoded as JSON. */
  data(): { route: number; seq: number; body: unknown }[] {
    return this.packets.flatMap((p) =>
      p.kind === "data"
        ? [{
          route: p.route,
          seq: p.seq,
          body: p.payload.length ? JSON.parse(new TextDecoder().decode(p.payload)) : undefined,
        }]
        : []
    );
  }

  /** Waits for the server to close the connection. */
  async closedByServer(timeoutMs = 3000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("server did not close")), timeoutMs)
    );
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes and waits for the read loop. */
  async close(): Promise<void> {
    if (!this.closed) {
      try {
        this.conn.close();
      } catch {
        // already closed
      }
    }
    await this.done;
  }
}

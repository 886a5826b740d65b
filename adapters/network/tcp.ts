/**
 * The TCP gateway server on raw `Deno.listen` (the fastest option measured here), optionally TLS
 * (`Deno.listenTls`). Client packets are a byte stream framed by {@linkcode FrameReader}.
 *
 * @module
 */

import { FeedResult, FrameReader } from "../../core/frame_reader.ts";
import { BaseConn, listenError, ServerCore } from "./_server_core.ts";
import { formatAddr, parseListenAddr } from "./_addr.ts";
import { CloseReason } from "./types.ts";
import type { ConnHandler, NetworkServer, NetworkStats, ServerOptions } from "./types.ts";

/** Bytes read per socket read; one buffer per connection, reused for every read. */
export const DEFAULT_TCP_READ_BUFFER_BYTES = 16 * 1024;

/** Largest per-connection buffer kept for coalesced writes. */
const MAX_BATCH_BUFFER_BYTES = 256 * 1024;

class TcpConn extends BaseConn {
  readonly #socket: Deno.Conn;
  #batch = new Uint8Array(0);

  constructor(core: ServerCore, socket: Deno.Conn) {
    const remote = socket.remoteAddr as Deno.NetAddr;
    super(core, remote.hostname, remote.port);
    this.#socket = socket;
  }

  async run(readBufferBytes: number): Promise<void> {
    const format = this.core.format;
    const reader = new FrameReader(
      { little: format.little, maxSize: format.maxSize },
      (packet) => this.receive(packet),
    );
    const buf = new Uint8Array(readBufferBytes);
    try {
      while (this.state !== "closed") {
        const n = await this.#socket.read(buf);
        if (n === null) break;
        if (this.state !== "open") continue; // closing: drain and ignore until the queue is flushed
        if (reader.feed(buf.subarray(0, n)) === FeedResult.TooLarge) {
          this.reject(CloseReason.TooLarge, "declared size above the limit", reader.lastSize);
          return;
        }
      }
      this.ended(CloseReason.Peer);
    } catch {
      this.ended(CloseReason.Error);
    }
  }

  protected async writeChunks(chunks: Uint8Array[]): Promise<void> {
    let data: Uint8Array;
    if (chunks.length === 1) data = chunks[0];
    else {
      let total = 0;
      for (const chunk of chunks) total += chunk.length;
      // One write in flight at a time, so one buffer per connection serves every batch; it grows to the largest
      // batch up to a cap, beyond which a batch gets a buffer of its own.
      if (total > this.#batch.length && total <= MAX_BATCH_BUFFER_BYTES) {
        this.#batch = new Uint8Array(
          Math.min(MAX_BATCH_BUFFER_BYTES, Math.max(total, this.#batch.length * 2)),
        );
      }
      data = total <= this.#batch.length ? this.#batch.subarray(0, total) : new Uint8Array(total);
      let off = 0;
      for (const chunk of chunks) {
        data.set(chunk, off);
        off += chunk.length;
      }
    }
    let off = 0;
    while (off < data.length) off += await this.#socket.write(off === 0 ? data : data.subarray(off));
  }

  protected destroy(): void {
    this.#socket.close();
  }
}

/** Options of {@linkcode createTcpServer}. */
export interface TcpServerOptions extends ServerOptions {
  /** @default DEFAULT_TCP_READ_BUFFER_BYTES */
  readBufferBytes?: number;
}

/**
 * Creates a TCP gateway server.
 *
 * @example
 * ```ts ignore
 * import { createTcpServer } from "./tcp.ts";
 * import { createPacketFormat } from "../../core/packet.ts";
 * const server = createTcpServer({ addr: ":3553", format: createPacketFormat() });
 * await server.start({ onConnect() {}, onPacket(conn, packet) { conn.send(packet.slice()); }, onDisconnect() {} });
 * ```
 */
export function createTcpServer(options: TcpServerOptions): NetworkServer {
  const { readBufferBytes = DEFAULT_TCP_READ_BUFFER_BYTES } = options;
  const listen = parseListenAddr(options.addr, "network.tcp.server.addr");
  const core = new ServerCore("tcp", options);
  let listener: Deno.Listener | undefined;
  let boundAddr = options.addr;
  let accepting: Promise<void> | undefined;

  async function acceptLoop(l: Deno.Listener): Promise<void> {
    try {
      for await (const socket of l) {
        const remote = socket.remoteAddr as Deno.NetAddr;
        if (!core.admit(remote.hostname, remote.port)) {
          socket.close();
          continue;
        }
        try {
          if (!options.certFile) (socket as Deno.TcpConn).setNoDelay(true);
        } catch {
          // the peer may already be gone
        }
        const conn = new TcpConn(core, socket);
        core.add(conn);
        conn.run(readBufferBytes);
      }
    } catch (err) {
      if (listener) core.log.error("tcp accept loop failed", { addr: boundAddr, error: err });
    }
  }

  return {
    network: "tcp",
    get addr() {
      return boundAddr;
    },
    get stats(): NetworkStats {
      return core.stats;
    },
    get connCount() {
      return core.conns.size;
    },
    async start(handler: ConnHandler): Promise<void> {
      try {
        listener = options.certFile && options.keyFile
          ? Deno.listenTls({
            ...listen,
            cert: await Deno.readTextFile(options.certFile),
            key: await Deno.readTextFile(options.keyFile),
          })
          : Deno.listen({ ...listen, transport: "tcp" });
      } catch (err) {
        throw listenError("tcp", options.addr, err);
      }
      const local = listener.addr as Deno.NetAddr;
      boundAddr = formatAddr(local.hostname, local.port);
      core.start(handler);
      accepting = acceptLoop(listener);
    },
    async stop(graceMs = 1000): Promise<void> {
      const l = listener;
      listener = undefined;
      if (l) {
        try {
          l.close();
        } catch {
          // already closed
        }
      }
      await accepting;
      await core.closeAll(graceMs);
    },
  } satisfies NetworkServer;
}

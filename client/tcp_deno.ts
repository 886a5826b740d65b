/**
 * The TCP transport for Deno (`Deno.connect`, or `Deno.connectTls` with `tls`). The only file of the client that
 * uses `Deno.*`.
 *
 * @module
 */

import { type Client, type ClientOptions, createClient } from "./client.ts";
import { parseAddr } from "./_addr.ts";
import { StreamWriter } from "./_stream_writer.ts";
import {
  DEFAULT_MAX_QUEUED_BYTES,
  type Dialer,
  type Transport,
  type TransportHandlers,
} from "./transport.ts";

/** Bytes read per `read` call; the buffer is reused, frames are copied out only when split. */
const READ_BUFFER_BYTES = 64 * 1024;
/** How long `close()` waits for queued writes to go out. */
const CLOSE_FLUSH_MS = 1000;

/**
 * TLS settings of {@linkcode DenoTcpDialerOptions.tls}.
 *
 * @example
 * ```ts
 * import { connectTcp, type DenoTlsOptions } from "./tcp_deno.ts";
 * const tls: DenoTlsOptions = { caCerts: [await Deno.readTextFile("./gate-ca.pem")] };
 * const client = await connectTcp({ addr: "game.example:3553", tls });
 * await client.close();
 * ```
 */
export interface DenoTlsOptions {
  /** PEM root certificates trusted in addition to the system's (for a self-signed gate). */
  caCerts?: string[];
}

/**
 * Options of {@linkcode createDenoTcpDialer}.
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createDenoTcpDialer, type DenoTcpDialerOptions } from "./tcp_deno.ts";
 * const options: DenoTcpDialerOptions = { addr: "127.0.0.1:3553", maxQueuedBytes: 1 << 20 };
 * const client = createClient(createDenoTcpDialer(options));
 * await client.close();
 * ```
 */
export interface DenoTcpDialerOptions {
  /** `host:port` of the gate's TCP server, e.g. `127.0.0.1:3553`. */
  addr: string;
  /** Connect with TLS: `true` for the system's roots, or settings. @default false */
  tls?: boolean | DenoTlsOptions;
  /** Bytes a connection may hold queued before writes fail. @default {DEFAULT_MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
}

/**
 * Creates a dialer of TCP connections in Deno.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createDenoTcpDialer } from "./tcp_deno.ts";
 * const client = createClient(createDenoTcpDialer({ addr: "127.0.0.1:3553", tls: { caCerts: [] } }));
 * await client.close();
 * ```
 */
export function createDenoTcpDialer(options: DenoTcpDialerOptions): Dialer {
  const { addr, tls = false, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES } = options;
  const { hostname, port } = parseAddr(addr, "create TCP dialer");
  return {
    addr,
    framing: "stream",
    async dial(handlers, dialOptions = {}) {
      const { signal } = dialOptions;
      const tcp = await Deno.connect({ hostname, port, signal });
      tcp.setNoDelay(true); // before TLS: a TlsConn has no setNoDelay, and Nagle would delay small packets
      let conn: Deno.Conn = tcp;
      if (tls) {
        const tlsConn = await Deno.startTls(tcp, {
          hostname,
          caCerts: tls === true ? undefined : tls.caCerts,
        });
        try {
          await tlsConn.handshake(); // here, so a bad certificate fails the dial, within its timeout
        } catch (err) {
          tlsConn.close();
          throw err;
        }
        conn = tlsConn;
      }
      if (signal?.aborted) {
        conn.close();
        throw signal.reason;
      }
      return new DenoTcpTransport(conn, handlers, maxQueuedBytes);
    },
  } satisfies Dialer;
}

/**
 * Options of {@linkcode connectTcp}: where, and how the client behaves.
 *
 * @example
 * ```ts
 * import { connectTcp, type ConnectTcpOptions } from "./tcp_deno.ts";
 * const options: ConnectTcpOptions = { addr: "127.0.0.1:3553", byteOrder: "little", timeoutMs: 3000 };
 * const client = await connectTcp(options);
 * await client.close();
 * ```
 */
export interface ConnectTcpOptions extends DenoTcpDialerOptions, ClientOptions {
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Connects a client over TCP (Deno) and resolves once it is open.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a client option is out of range
 * @throws {DueError} when the connection cannot be made (as a rejection)
 *
 * @example
 * ```ts
 * import { connectTcp } from "./tcp_deno.ts";
 * const client = await connectTcp({ addr: "127.0.0.1:3553", heartbeatIntervalMs: 5000 });
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<Client> {
  const client = createClient(createDenoTcpDialer(options), options);
  await client.connect({ signal: options.signal });
  return client;
}

/** One TCP connection: a read loop on a reused buffer and a coalescing writer. */
class DenoTcpTransport implements Transport {
  readonly #conn: Deno.Conn;
  readonly #handlers: TransportHandlers;
  readonly #writer: StreamWriter;
  readonly #reading: Promise<void>;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(conn: Deno.Conn, handlers: TransportHandlers, maxQueuedBytes: number) {
    this.#conn = conn;
    this.#handlers = handlers;
    this.#writer = new StreamWriter(
      (bytes) => this.#writeAll(bytes),
      (error) => this.#fail(error),
      maxQueuedBytes,
    );
    this.#reading = this.#readLoop();
  }

  write(bytes: Uint8Array): boolean {
    return !this.#closing && this.#writer.write(bytes);
  }

  close(): Promise<void> {
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    const ended = this.#closing;
    this.#closing = true;
    if (!ended) await this.#writer.drain(CLOSE_FLUSH_MS);
    this.#writer.fail();
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer or a failed read
    }
    await this.#reading;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    let error: Error | undefined;
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null || this.#closing) break;
        this.#handlers.onData(buf.subarray(0, n));
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    this.#fail(error);
  }

  /** The connection ended by itself: tell the client once, unless it is the one closing. */
  #fail(error?: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#writer.fail();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#handlers.onClose(error);
  }
}

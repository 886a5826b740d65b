/**
 * The TCP transport for Deno (`Deno.connect`, or `Deno.connectTls` with `tls`). The only file of the client that
 * uses `Deno.*`.
 *
 * @module
 */

import { type Client, type ClientOptions, createClient } from "./client.ts";
import { parseAddr } from "./_addr.ts";
import { type ByteSocket, StreamTransport } from "./_stream_transport.ts";
import { DEFAULT_MAX_QUEUED_BYTES, type Dialer } from "./transport.ts";

/** Bytes read per `read` call; the buffer is reused, frames are copied out only when split. */
const READ_BUFFER_BYTES = 64 * 1024;

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
      return new StreamTransport(denoSocket(conn), handlers, maxQueuedBytes);
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

/** A Deno connection as a {@linkcode ByteSocket}: a read loop on a reused buffer. */
function denoSocket(conn: Deno.Conn): ByteSocket {
  return {
    async read(onData, onEnd) {
      const buf = new Uint8Array(READ_BUFFER_BYTES);
      let error: Error | undefined;
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null || !onData(buf.subarray(0, n))) break;
        }
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      }
      onEnd(error);
    },
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    destroy() {
      try {
        conn.close();
      } catch {
        // already closed by the peer or a failed read
      }
    },
  };
}

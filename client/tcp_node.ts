/**
 * The TCP transport for Node.js (`node:net`, or `node:tls` with `tls`). It never touches `Deno.*`, so a Node
 * bundle of `client/node.ts` runs on plain Node.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { type Client, type ClientOptions, createClient } from "./client.ts";
import { parseAddr } from "./_addr.ts";
import { type ByteSocket, StreamTransport } from "./_stream_transport.ts";
import { DEFAULT_MAX_QUEUED_BYTES, type Dialer, type Transport } from "./transport.ts";

/**
 * TLS settings of {@linkcode NodeTcpDialerOptions.tls}.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { connectTcp, type NodeTlsOptions } from "./tcp_node.ts";
 * const tls: NodeTlsOptions = { caCerts: [readFileSync("./gate-ca.pem", "utf8")], serverName: "game.example" };
 * const client = await connectTcp({ addr: "10.0.0.5:3553", tls });
 * await client.close();
 * ```
 */
export interface NodeTlsOptions {
  /** PEM root certificates to trust instead of Node's defaults (for a self-signed gate). */
  caCerts?: string[];
  /** The name the certificate must carry (SNI). @default the host of `addr` when it is a name, not an IP */
  serverName?: string;
}

/**
 * Options of {@linkcode createNodeTcpDialer}.
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createNodeTcpDialer, type NodeTcpDialerOptions } from "./tcp_node.ts";
 * const options: NodeTcpDialerOptions = { addr: "127.0.0.1:3553", maxQueuedBytes: 1 << 20 };
 * const client = createClient(createNodeTcpDialer(options));
 * await client.close();
 * ```
 */
export interface NodeTcpDialerOptions {
  /** `host:port` of the gate's TCP server, e.g. `127.0.0.1:3553`. */
  addr: string;
  /** Connect with TLS: `true` for Node's default roots, or settings. @default false */
  tls?: boolean | NodeTlsOptions;
  /** Bytes a connection may hold queued before writes fail. @default {DEFAULT_MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
}

/**
 * Creates a dialer of TCP connections in Node.js.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createNodeTcpDialer } from "./tcp_node.ts";
 * const client = createClient(createNodeTcpDialer({ addr: "127.0.0.1:3553" }));
 * await client.close();
 * ```
 */
export function createNodeTcpDialer(options: NodeTcpDialerOptions): Dialer {
  const { addr, tls: tlsOptions = false, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES } = options;
  const { hostname, port } = parseAddr(addr, "create TCP dialer");
  return {
    addr,
    framing: "stream",
    dial(handlers, dialOptions = {}) {
      const { signal } = dialOptions;
      return new Promise<Transport>((resolve, reject) => {
        signal?.throwIfAborted();
        const secure = tlsOptions === false ? undefined : tlsOptions === true ? {} : tlsOptions;
        const socket: net.Socket = secure
          ? tls.connect({
            host: hostname,
            port,
            ca: secure.caCerts,
            // SNI carries host names only (RFC 6066); an IP address is checked against the certificate as it is
            servername: secure.serverName ?? (net.isIP(hostname) === 0 ? hostname : undefined),
          })
          : net.connect({ host: hostname, port });
        const onError = (err: Error) => {
          signal?.removeEventListener("abort", onAbort);
          socket.destroy();
          reject(err);
        };
        const onAbort = () => {
          socket.removeListener("error", onError);
          socket.destroy();
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        socket.once("error", onError);
        socket.once(secure ? "secureConnect" : "connect", () => {
          signal?.removeEventListener("abort", onAbort);
          socket.removeListener("error", onError);
          socket.setNoDelay(true);
          resolve(new StreamTransport(nodeSocket(socket), handlers, maxQueuedBytes));
        });
      });
    },
  } satisfies Dialer;
}

/**
 * Options of {@linkcode connectTcp}: where, and how the client behaves.
 *
 * @example
 * ```ts
 * import { connectTcp, type ConnectTcpOptions } from "./tcp_node.ts";
 * const options: ConnectTcpOptions = { addr: "127.0.0.1:3553", seqBytes: 4, heartbeatIntervalMs: 5000 };
 * const client = await connectTcp(options);
 * await client.close();
 * ```
 */
export interface ConnectTcpOptions extends NodeTcpDialerOptions, ClientOptions {
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Connects a client over TCP (Node.js) and resolves once it is open.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a client option is out of range
 * @throws {DueError} when the connection cannot be made (as a rejection)
 *
 * @example
 * ```ts
 * import { connectTcp } from "./tcp_node.ts";
 * const client = await connectTcp({ addr: "127.0.0.1:3553" });
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<Client> {
  const client = createClient(createNodeTcpDialer(options), options);
  await client.connect({ signal: options.signal });
  return client;
}

/** A Node socket as a {@linkcode ByteSocket}: `data` events, and `write` callbacks for one write in flight. */
function nodeSocket(socket: net.Socket): ByteSocket {
  return {
    read(onData, onEnd) {
      let error: Error | undefined;
      const ended = new Promise<void>((resolve) => {
        socket.on("error", (err: Error) => error = err);
        socket.once("close", () => {
          resolve();
          onEnd(error);
        });
      });
      socket.on("data", (chunk: Uint8Array) => {
        onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      return ended;
    },
    write(bytes) {
      return new Promise((resolve, reject) => {
        socket.write(bytes, (err?: Error | null) => err ? reject(err) : resolve());
      });
    },
    destroy() {
      socket.destroy();
    },
  };
}

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
import { StreamWriter } from "./_stream_writer.ts";
import {
  DEFAULT_MAX_QUEUED_BYTES,
  type Dialer,
  type Transport,
  type TransportHandlers,
} from "./transport.ts";

/** How long `close()` waits for queued writes to go out. */
const CLOSE_FLUSH_MS = 1000;

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
          resolve(new NodeTcpTransport(socket, handlers, maxQueuedBytes));
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

/** One socket: `data` events to the client, a coalescing writer with one `write` in flight. */
class NodeTcpTransport implements Transport {
  readonly #socket: net.Socket;
  readonly #handlers: TransportHandlers;
  readonly #writer: StreamWriter;
  readonly #ended: Promise<void>;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(socket: net.Socket, handlers: TransportHandlers, maxQueuedBytes: number) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#writer = new StreamWriter(
      (bytes) => this.#writeAll(bytes),
      (error) => this.#fail(error),
      maxQueuedBytes,
    );
    let error: Error | undefined;
    this.#ended = new Promise((resolve) => {
      socket.on("error", (err: Error) => error = err);
      socket.once("close", () => {
        resolve();
        this.#fail(error);
      });
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (!this.#closing) handlers.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
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
    this.#socket.destroy();
    await this.#ended;
  }

  #writeAll(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err?: Error | null) => err ? reject(err) : resolve());
    });
  }

  /** The socket ended by itself: tell the client once, unless it is the one closing. */
  #fail(error?: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#writer.fail();
    this.#socket.destroy();
    this.#handlers.onClose(error);
  }
}

/**
 * The KCP transport for Deno: one `Deno.listenDatagram` socket on an ephemeral port per connection, a KCP session
 * in stream mode to the gate's `network.kcp.server`. `Deno.listenDatagram` is unstable in Deno 2: run with
 * `--unstable-net` (this repository sets `"unstable": ["net"]` in `deno.json`).
 *
 * @module
 */

import { type Client, type ClientOptions, createClient } from "./client.ts";
import { parseAddr } from "./_addr.ts";
import {
  type DatagramLink,
  kcpDialConfig,
  type KcpDialSettings,
  KcpTransport,
  randomConv,
} from "./_kcp_transport.ts";
import type { Dialer } from "./transport.ts";

/** Largest datagram read. */
const RECEIVE_BUFFER_BYTES = 64 * 1024;
const IPV4_REGEXP = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Options of {@linkcode createDenoKcpDialer}: where, and the KCP settings (they should match the gate's
 * `network.kcp.server`).
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createDenoKcpDialer, type DenoKcpDialerOptions } from "./kcp_deno.ts";
 * const options: DenoKcpDialerOptions = { addr: "127.0.0.1:3555", mtu: 1200, noDelay: [1, 10, 2, 1] };
 * const client = createClient(createDenoKcpDialer(options));
 * await client.close();
 * ```
 */
export interface DenoKcpDialerOptions extends KcpDialSettings {}

/**
 * Creates a dialer of KCP sessions in Deno. Each dial binds a fresh ephemeral UDP port and, unless `conv` is given,
 * picks a random conv.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a KCP setting is out of range
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createDenoKcpDialer } from "./kcp_deno.ts";
 * const client = createClient(createDenoKcpDialer({ addr: "127.0.0.1:3555" }));
 * await client.connect();
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export function createDenoKcpDialer(options: DenoKcpDialerOptions): Dialer {
  const { addr } = options;
  const parsed = parseAddr(addr, "create KCP dialer");
  const hostname = parsed.hostname === "localhost" ? "127.0.0.1" : parsed.hostname;
  const { port } = parsed;
  const { tunables, conv, maxQueuedBytes } = kcpDialConfig(options);
  const ipv6 = hostname.includes(":");
  /** Datagrams are accepted from the gate's address only (by port alone when `addr` names a host). */
  const literal = ipv6 || IPV4_REGEXP.test(hostname);
  const target: Deno.NetAddr = { transport: "udp", hostname, port };
  return {
    addr,
    framing: "stream",
    async dial(handlers, dialOptions = {}) {
      const { signal } = dialOptions;
      signal?.throwIfAborted();
      if (typeof Deno.listenDatagram !== "function") {
        throw new TypeError(
          "Cannot dial KCP as Deno.listenDatagram is missing: run Deno with --unstable-net",
        );
      }
      const socket = Deno.listenDatagram({ transport: "udp", hostname: ipv6 ? "::" : "0.0.0.0", port: 0 });
      const transport = new KcpTransport(conv ?? randomConv(), tunables, handlers, maxQueuedBytes);
      const onSendError = (err: unknown) =>
        transport.fail(err instanceof Error ? err : new Error(String(err)));
      const receiving = receiveLoop(socket, transport, literal ? hostname : undefined, port);
      const link: DatagramLink = {
        send(datagram) {
          socket.send(datagram.slice(), target).catch(onSendError);
        },
        async close() {
          try {
            socket.close();
          } catch {
            // already closed
          }
          await receiving;
        },
      };
      await transport.open(link, signal);
      return transport;
    },
  } satisfies Dialer;
}

async function receiveLoop(
  socket: Deno.DatagramConn,
  transport: KcpTransport,
  hostname: string | undefined,
  port: number,
): Promise<void> {
  const buf = new Uint8Array(RECEIVE_BUFFER_BYTES);
  for (;;) {
    let datagram: Uint8Array;
    let from: Deno.NetAddr;
    try {
      const [bytes, addr] = await socket.receive(buf);
      datagram = bytes;
      from = addr as Deno.NetAddr;
    } catch (err) {
      transport.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (from.port !== port || (hostname !== undefined && from.hostname !== hostname)) continue;
    transport.input(datagram);
  }
}

/**
 * Options of {@linkcode connectKcp}: where, the KCP settings, and how the client behaves.
 *
 * @example
 * ```ts
 * import { connectKcp, type ConnectKcpOptions } from "./kcp_deno.ts";
 * const options: ConnectKcpOptions = { addr: "127.0.0.1:3555", heartbeatIntervalMs: 5000, timeoutMs: 3000 };
 * const client = await connectKcp(options);
 * await client.close();
 * ```
 */
export interface ConnectKcpOptions extends DenoKcpDialerOptions, ClientOptions {
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Connects a client over KCP (Deno) and resolves once the gate has acknowledged the session.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a client or KCP option is out of range
 * @throws {TimeoutError} when the gate does not answer within `connectTimeoutMs` (as a rejection)
 *
 * @example
 * ```ts
 * import { connectKcp } from "./kcp_deno.ts";
 * const client = await connectKcp({ addr: "127.0.0.1:3555" });
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export async function connectKcp(options: ConnectKcpOptions): Promise<Client> {
  const client = createClient(createDenoKcpDialer(options), options);
  await client.connect({ signal: options.signal });
  return client;
}

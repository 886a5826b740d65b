/**
 * The KCP transport for Node.js (`node:dgram`): one UDP socket on an ephemeral port per connection, a KCP session
 * in stream mode to the gate's `network.kcp.server`. It never touches `Deno.*`, so a Node bundle of
 * `client/node.ts` runs on plain Node.
 *
 * @module
 */

import * as dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
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

/**
 * Options of {@linkcode createNodeKcpDialer}: where, and the KCP settings (they should match the gate's
 * `network.kcp.server`).
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createNodeKcpDialer, type NodeKcpDialerOptions } from "./kcp_node.ts";
 * const options: NodeKcpDialerOptions = { addr: "127.0.0.1:3555", windowSize: [128, 128] };
 * const client = createClient(createNodeKcpDialer(options));
 * await client.close();
 * ```
 */
export interface NodeKcpDialerOptions extends KcpDialSettings {}

/**
 * Creates a dialer of KCP sessions in Node.js. Each dial resolves the host once, binds a fresh ephemeral UDP port
 * and, unless `conv` is given, picks a random conv.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a KCP setting is out of range
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createNodeKcpDialer } from "./kcp_node.ts";
 * const client = createClient(createNodeKcpDialer({ addr: "127.0.0.1:3555" }));
 * await client.connect();
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export function createNodeKcpDialer(options: NodeKcpDialerOptions): Dialer {
  const { addr } = options;
  const { hostname, port } = parseAddr(addr, "create KCP dialer");
  const { tunables, conv, maxQueuedBytes } = kcpDialConfig(options);
  return {
    addr,
    framing: "stream",
    async dial(handlers, dialOptions = {}) {
      const { signal } = dialOptions;
      signal?.throwIfAborted();
      const family = isIP(hostname);
      const address = family !== 0 ? hostname : (await lookup(hostname)).address;
      signal?.throwIfAborted();
      const socket = dgram.createSocket(isIP(address) === 6 ? "udp6" : "udp4");
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, () => {
          socket.removeListener("error", reject);
          resolve();
        });
      });
      const transport = new KcpTransport(conv ?? randomConv(), tunables, handlers, maxQueuedBytes);
      const onSent = (err: Error | null) => {
        if (err) transport.fail(err);
      };
      socket.on("error", (err: Error) => transport.fail(err));
      socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
        if (rinfo.port !== port || rinfo.address !== address) return;
        transport.input(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      });
      const link: DatagramLink = {
        send(datagram) {
          socket.send(datagram.slice(), port, address, onSent);
        },
        close() {
          return new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve());
            } catch {
              resolve(); // already closed
            }
          });
        },
      };
      await transport.open(link, signal);
      return transport;
    },
  } satisfies Dialer;
}

/**
 * Options of {@linkcode connectKcp}: where, the KCP settings, and how the client behaves.
 *
 * @example
 * ```ts
 * import { connectKcp, type ConnectKcpOptions } from "./kcp_node.ts";
 * const options: ConnectKcpOptions = { addr: "127.0.0.1:3555", heartbeatIntervalMs: 5000 };
 * const client = await connectKcp(options);
 * await client.close();
 * ```
 */
export interface ConnectKcpOptions extends NodeKcpDialerOptions, ClientOptions {
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Connects a client over KCP (Node.js) and resolves once the gate has acknowledged the session.
 *
 * @throws {TypeError} when `addr` is not `host:port`
 * @throws {RangeError} when a client or KCP option is out of range
 * @throws {TimeoutError} when the gate does not answer within `connectTimeoutMs` (as a rejection)
 *
 * @example
 * ```ts
 * import { connectKcp } from "./kcp_node.ts";
 * const client = await connectKcp({ addr: "127.0.0.1:3555" });
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export async function connectKcp(options: ConnectKcpOptions): Promise<Client> {
  const client = createClient(createNodeKcpDialer(options), options);
  await client.connect({ signal: options.signal });
  return client;
}

/**
 * The client SDK for Node.js: the same client as `client/mod.ts`, with TCP over `node:net` / `node:tls`, KCP
 * over `node:dgram`, and WebSocket with an injected constructor (Node 20 has no global one). Nothing here touches
 * `Deno.*`, so a bundle of this file runs on plain Node.
 *
 * @example Over TCP, and over WebSocket with the `ws` package
 * ```ts
 * import WebSocket from "ws";
 * import { connectTcp, connectWs } from "./node.ts";
 *
 * const tcp = await connectTcp({ addr: "127.0.0.1:3553" });
 * console.log(await tcp.request(1, { message: "hi" }));
 * await tcp.close();
 *
 * const ws = await connectWs({ url: "ws://127.0.0.1:3554/", WebSocket });
 * console.log(await ws.request(1, { message: "hi" }));
 * await ws.close();
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./transport.ts";
export {
  connectTcp,
  type ConnectTcpOptions,
  createNodeTcpDialer,
  type NodeTcpDialerOptions,
  type NodeTlsOptions,
} from "./tcp_node.ts";
export {
  connectKcp,
  type ConnectKcpOptions,
  createNodeKcpDialer,
  type NodeKcpDialerOptions,
} from "./kcp_node.ts";
export type { KcpNoDelay, KcpTunables, KcpWindowSize } from "../adapters/network/kcp/tunables.ts";
export * from "./ws.ts";
export { ClosedError, DueError, ErrorCode, TimeoutError } from "../core/errors.ts";
export type { ErrorContext } from "../core/errors.ts";
export type { ByteOrder, PacketFormat, PacketOptions } from "../core/packet.ts";
export type { Codec } from "../adapters/codec/types.ts";
export { createJsonCodec } from "../adapters/codec/json.ts";

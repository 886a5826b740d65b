/**
 * The TypeScript client SDK of due for Deno: connect to a gate over TCP, WebSocket or KCP, send requests and await
 * their replies, receive pushes, keep the connection alive with heartbeats, and reconnect if asked to.
 *
 * This entry point is for Deno (KCP needs `--unstable-net`). Node.js users import `client/node.ts` (TCP over
 * `node:net`, KCP over `node:dgram`, WebSocket with an injected constructor); browsers import `client/browser.ts`
 * (WebSocket only). The wire format is in `docs/protocol.md`; the packet options (`byteOrder`, `routeBytes`,
 * `seqBytes`, `bufferBytes`) must match the gate's `packet.*`.
 *
 * @example The echo game: route 1 answers with what it gets
 * ```ts
 * import { connectTcp, TimeoutError } from "./mod.ts";
 *
 * const client = await connectTcp({ addr: "127.0.0.1:3553", heartbeatIntervalMs: 10_000 });
 * client.on<{ text: string }>(2, (push) => console.log("pushed:", push.text));
 * client.onClose(({ reason }) => console.log("closed:", reason));
 * try {
 *   const reply = await client.request<{ message: string }>(1, { message: "hi" }, { timeoutMs: 3000 });
 *   console.log("echo:", reply.message);
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.log("no echo within 3 s");
 *   else throw err;
 * } finally {
 *   await client.close();
 * }
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./transport.ts";
export {
  connectTcp,
  type ConnectTcpOptions,
  createDenoTcpDialer,
  type DenoTcpDialerOptions,
  type DenoTlsOptions,
} from "./tcp_deno.ts";
export {
  connectKcp,
  type ConnectKcpOptions,
  createDenoKcpDialer,
  type DenoKcpDialerOptions,
} from "./kcp_deno.ts";
export type { KcpNoDelay, KcpTunables, KcpWindowSize } from "../adapters/network/kcp/tunables.ts";
export * from "./ws.ts";
export { ClosedError, DueError, ErrorCode, TimeoutError } from "../core/errors.ts";
export type { ErrorContext } from "../core/errors.ts";
export type { ByteOrder, PacketFormat, PacketOptions } from "../core/packet.ts";
export type { Codec } from "../adapters/codec/types.ts";
export { createJsonCodec } from "../adapters/codec/json.ts";

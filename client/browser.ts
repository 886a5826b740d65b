/**
 * The client SDK for browsers: the client over the standard `WebSocket`. Nothing here touches `Deno.*` or
 * `node:*`, so it bundles for the web as it is.
 *
 * @example
 * ```ts
 * import { connectWs } from "./browser.ts";
 *
 * const client = await connectWs({ url: "ws://127.0.0.1:3554/" });
 * client.on<{ text: string }>(2, (push) => console.log(push.text));
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./transport.ts";
export * from "./ws.ts";
export { ClosedError, DueError, ErrorCode, TimeoutError } from "../core/errors.ts";
export type { ErrorContext } from "../core/errors.ts";
export type { ByteOrder, PacketFormat, PacketOptions } from "../core/packet.ts";
export type { Codec } from "../adapters/codec/types.ts";
export { createJsonCodec } from "../adapters/codec/json.ts";

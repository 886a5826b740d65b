/**
 * The public types of the client: options, messages, close reasons, states and counters.
 *
 * @module
 */

import type { Codec } from "../adapters/codec/types.ts";
import type { ByteOrder } from "../core/packet.ts";
import type { Encryptor } from "../adapters/crypto/types.ts";

/**
 * Settings of automatic reconnect.
 *
 * @example
 * ```ts
 * import { createClient, type ReconnectOptions } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const reconnect: ReconnectOptions = { maxRetries: 20, minDelayMs: 250, maxDelayMs: 10_000 };
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), { reconnect });
 * await client.close();
 * ```
 */
export interface ReconnectOptions {
  /** Failed attempts in a row after which the client gives up and closes. @default 10 */
  maxRetries: number;
  /** Delay before the first attempt; it doubles per attempt, with jitter. @default 500 */
  minDelayMs: number;
  /** Cap of the delay. @default 30000 */
  maxDelayMs: number;
}

/** Payload encryption shared with the node (`cluster.node.encryptor`): an {@linkcode Encryptor}'s two methods. */
export type PayloadEncryptor = Pick<Encryptor, "encrypt" | "decrypt">;

/**
 * Options of `createClient`. The packet options must match the server's `packet.*`.
 *
 * @example
 * ```ts
 * import { createMsgpackCodec } from "../adapters/codec/msgpack.ts";
 * import { type ClientOptions, createClient } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * // must match the gate's packet.* settings
 * const options: ClientOptions = { byteOrder: "little", routeBytes: 4, seqBytes: 4, codec: createMsgpackCodec() };
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), options);
 * await client.close();
 * ```
 */
export interface ClientOptions {
  /** Byte order of size, route, seq and heartbeat time. @default "big" */
  byteOrder?: ByteOrder;
  /** Bytes of the signed route: 1, 2 or 4. @default 2 */
  routeBytes?: 1 | 2 | 4;
  /** Bytes of the signed seq: 0 (absent: no `Client.request`), 1, 2 or 4. @default 2 */
  seqBytes?: 0 | 1 | 2 | 4;
  /** Largest payload sent or accepted; a larger declared inbound size closes the client. @default 5000 */
  bufferBytes?: number;
  /** Encodes request data and decodes replies and pushes. A `Uint8Array` always passes through. @default JSON */
  codec?: Codec;
  /**
   * Encrypts every payload sent (after the codec) and decrypts every payload received (before the codec), as the
   * node does when `cluster.node.encryptor` is set; e.g. `createRsaEncryptor` from `adapters/crypto/rsa.ts` with
   * the same keys. `requestRaw` and `onAny` see payloads as they travel.
   */
  encryptor?: PayloadEncryptor;
  /** Default timeout of `Client.request`. @default 10000 */
  timeoutMs?: number;
  /** How long one attempt to connect may take. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Interval of the client's heartbeats (`00 00 00 01 80`); a server silent for more than twice as long is taken
   * for dead and the connection is closed. 0 turns both off. @default 10000
   */
  heartbeatIntervalMs?: number;
  /** Reconnect after a lost connection: `true` for `DEFAULT_RECONNECT_OPTIONS`. @default false */
  reconnect?: boolean | Partial<ReconnectOptions>;
}

/**
 * Options of `Client.request` and `Client.requestRaw`.
 *
 * @example
 * ```ts
 * import { connectTcp } from "./mod.ts";
 * import type { RequestOptions } from "./client.ts";
 * const client = await connectTcp({ addr: "127.0.0.1:3553" });
 * const options: RequestOptions = { timeoutMs: 3000, signal: AbortSignal.timeout(5000) };
 * console.log(await client.request(1, { message: "hi" }, options));
 * await client.close();
 * ```
 */
export interface RequestOptions {
  /** How long to wait for the reply. @default the client's `timeoutMs` */
  timeoutMs?: number;
  /** Cancels the request: it rejects with the signal's reason and its seq is freed. */
  signal?: AbortSignal;
  /** Message type of the request data, for schema codecs (protobuf). */
  type?: string;
  /** Message type of the reply, for schema codecs (protobuf). */
  replyType?: string;
}

/**
 * Options of `Client.send`.
 *
 * @example
 * ```ts
 * import { connectTcp } from "./mod.ts";
 * import type { SendOptions } from "./client.ts";
 * const client = await connectTcp({ addr: "127.0.0.1:3553" });
 * const options: SendOptions = { seq: 7 };
 * client.send(1, { message: "hi" }, options);
 * await client.close();
 * ```
 */
export interface SendOptions {
  /** The seq to write. @default 0 */
  seq?: number;
  /** Message type of the data, for schema codecs (protobuf). */
  type?: string;
}

/**
 * A data packet as received: route, seq and the raw payload (a copy the handler may keep).
 *
 * @example
 * ```ts
 * import { connectTcp } from "./mod.ts";
 * import type { Message } from "./client.ts";
 * const client = await connectTcp({ addr: "127.0.0.1:3553" });
 * const reply: Message = await client.requestRaw(1, new Uint8Array([1, 2, 3]));
 * console.log(reply.route, reply.seq, reply.payload);
 * await client.close();
 * ```
 */
export interface Message {
  /** The route. */
  route: number;
  /** The seq: the request's for a reply, usually 0 for a push. */
  seq: number;
  /** The payload, not decoded. */
  payload: Uint8Array;
}

/**
 * Handles the pushes of one route: the decoded data and the raw message.
 *
 * @example
 * ```ts
 * import { createClient, type PushHandler } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const onChat: PushHandler<{ from: string; text: string }> = (chat, message) =>
 *   console.log(message.route, chat.from, chat.text);
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
 * client.on(30, onChat);
 * await client.close();
 * ```
 */
export type PushHandler<T = unknown> = (data: T, message: Message) => void;

/**
 * Why the connection closed, as passed to `Client.onClose` and resolved by `Client.closed`.
 *
 * @example
 * ```ts
 * import { type CloseInfo, createClient } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
 * await client.close("done");
 * const info: CloseInfo = await client.closed;
 * console.assert(info.reason === "done" && !info.reconnecting);
 * ```
 */
export interface CloseInfo {
  /** A sentence for logs. */
  reason: string;
  /** What made it close, when it was not `Client.close`. */
  error?: Error;
  /** Whether the client is now reconnecting (only with `reconnect`); `false` means closed for good. */
  reconnecting: boolean;
}

/**
 * Where a client is in its life. `closed` is final.
 *
 * @example
 * ```ts
 * import { type ClientState, createClient } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
 * const state: ClientState = client.state;
 * console.assert(state === "idle");
 * await client.close();
 * ```
 */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/**
 * Counters of a client, for tests and diagnostics.
 *
 * @example
 * ```ts
 * import { type ClientStats, createClient } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
 * const stats: Readonly<ClientStats> = client.stats;
 * console.assert(stats.packetsSent === 0 && stats.unmatchedReplies === 0);
 * await client.close();
 * ```
 */
export interface ClientStats {
  /** Data packets written. */
  packetsSent: number;
  /** Packets read, heartbeats and no-ops included. */
  packetsReceived: number;
  /** Heartbeats written. */
  heartbeatsSent: number;
  /** Heartbeats read. */
  heartbeatsReceived: number;
  /** Data packets that matched no pending request (pushes and late replies). */
  pushes: number;
  /** Pushes no handler took. */
  unhandledPushes: number;
  /** Data packets with a non-zero seq that matched no pending request: replies after a timeout or abort. */
  unmatchedReplies: number;
  /** Successful reconnects. */
  reconnects: number;
  /** Errors reported through `Client.onError`. */
  errors: number;
}

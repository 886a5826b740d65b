/**
 * The seam between the client and a socket: a {@linkcode Dialer} opens a {@linkcode Transport} that writes bytes
 * and reports what it reads to {@linkcode TransportHandlers}. The client never touches `Deno.*`, `node:net` or
 * `WebSocket`; each transport file does, and only that one.
 *
 * @module
 */

/**
 * How a transport delivers bytes: `"stream"` hands on arbitrary chunks of a byte stream (TCP), which the client
 * frames; `"packet"` hands on exactly one packet per call (one WebSocket binary frame).
 *
 * @example
 * ```ts
 * import type { Framing } from "./transport.ts";
 * function describe(framing: Framing): string {
 *   return framing === "stream" ? "chunks of a byte stream" : "one packet per call";
 * }
 * console.assert(describe("packet") === "one packet per call");
 * ```
 */
export type Framing = "stream" | "packet";

/**
 * What a transport reports to the client.
 *
 * @example
 * ```ts
 * import type { TransportHandlers } from "./transport.ts";
 * const handlers: TransportHandlers = {
 *   onData: (bytes) => console.log("read", bytes.length, "bytes"),
 *   onClose: (error) => console.log("closed", error?.message ?? "cleanly"),
 * };
 * handlers.onData(new Uint8Array([0, 0, 0, 1, 0x80]));
 * ```
 */
export interface TransportHandlers {
  /**
   * Bytes that arrived. For `"stream"` framing a chunk of the stream, valid only during the call (the transport
   * may reuse its read buffer); for `"packet"` framing one whole packet, which the client may keep.
   */
  onData(bytes: Uint8Array): void;
  /**
   * The peer was heard but sent no data: a KCP datagram of only acknowledgements or retransmitted segments still
   * waiting for an earlier one. It tells the client's heartbeat check that the link is alive. Transports whose
   * every read is data (TCP, WebSocket) never call it.
   */
  onAlive?(): void;
  /**
   * The peer closed the connection or it failed. Called at most once, and never after
   * {@linkcode Transport.close} was called.
   */
  onClose(error?: Error): void;
}

/**
 * Options of {@linkcode Dialer.dial}.
 *
 * @example
 * ```ts
 * import type { DialOptions } from "./transport.ts";
 * const options: DialOptions = { signal: AbortSignal.timeout(5000) };
 * console.assert(options.signal !== undefined);
 * ```
 */
export interface DialOptions {
  /** Aborts the attempt to connect (not the connection once open). */
  signal?: AbortSignal;
}

/**
 * An open connection.
 *
 * @example
 * ```ts
 * import type { Transport } from "./transport.ts";
 * // a transport that only records what is written, for a test
 * const written: Uint8Array[] = [];
 * const transport: Transport = {
 *   write: (bytes) => written.push(bytes) > 0,
 *   close: () => Promise.resolve(),
 * };
 * transport.write(new Uint8Array([0, 0, 0, 1, 0x80]));
 * await transport.close();
 * ```
 */
export interface Transport {
  /**
   * Queues one packet (or several, back to back) for sending. Stream transports coalesce what is written in one
   * tick into one write and keep one write in flight.
   *
   * @returns `false` when the write queue is full and the bytes were not queued
   */
  write(bytes: Uint8Array): boolean;
  /** Closes the connection after trying briefly to flush queued writes; resolves once it is released. */
  close(): Promise<void>;
}

/**
 * Opens transports to one address.
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import type { Dialer, Transport, TransportHandlers } from "./transport.ts";
 *
 * // An in-memory "server" that echoes every packet back: a client without sockets.
 * const echo: Dialer = {
 *   addr: "memory:echo",
 *   framing: "packet",
 *   dial(handlers: TransportHandlers): Promise<Transport> {
 *     return Promise.resolve({
 *       write(bytes) {
 *         queueMicrotask(() => handlers.onData(bytes.slice()));
 *         return true;
 *       },
 *       close: () => Promise.resolve(),
 *     });
 *   },
 * };
 * const client = createClient(echo, { heartbeatIntervalMs: 0 });
 * await client.connect();
 * const reply = await client.request<{ n: number }>(1, { n: 42 });
 * console.assert(reply.n === 42);
 * await client.close();
 * ```
 */
export interface Dialer {
  /** What is dialed, for messages and error context: `127.0.0.1:3553`, `ws://127.0.0.1:3554/`. */
  readonly addr: string;
  /** How the transports it opens deliver bytes. */
  readonly framing: Framing;
  /**
   * Connects. `handlers` may be called as soon as the promise resolves.
   *
   * @throws when the connection cannot be opened (as a rejection)
   */
  dial(handlers: TransportHandlers, options?: DialOptions): Promise<Transport>;
}

/**
 * Bytes a transport may hold queued before {@linkcode Transport.write} returns `false`: 4 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_QUEUED_BYTES } from "./transport.ts";
 * import { createWsDialer } from "./ws.ts";
 * const dialer = createWsDialer({ url: "ws://127.0.0.1:3554/", maxQueuedBytes: 2 * DEFAULT_MAX_QUEUED_BYTES });
 * console.assert(dialer.framing === "packet");
 * ```
 */
export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;

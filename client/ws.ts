/**
 * The WebSocket transport: the standard `WebSocket` (browsers, Deno, Node 22+) or an injected constructor (Node 20:
 * the `ws` package, or the global of `node --experimental-websocket`). One packet per binary frame, size prefix
 * included; text frames are ignored.
 *
 * Writes are not coalesced here: the protocol puts exactly one packet in each frame, and the WebSocket itself
 * buffers frames (`bufferedAmount`), which bounds the queue.
 *
 * @module
 */

import { type Client, type ClientOptions, createClient } from "./client.ts";
import {
  DEFAULT_MAX_QUEUED_BYTES,
  type Dialer,
  type Transport,
  type TransportHandlers,
} from "./transport.ts";

/** How long `close()` waits for the closing handshake. */
const CLOSE_WAIT_MS = 1000;
/** `WebSocket.OPEN`. */
const OPEN = 1;
/** `WebSocket.CLOSED`. */
const CLOSED = 3;

/**
 * What the transport reads from WebSocket events (message, close, error).
 *
 * @example
 * ```ts
 * import type { WebSocketEventLike } from "./ws.ts";
 * const event: WebSocketEventLike = { code: 1000, reason: "bye" };
 * console.assert(event.code === 1000);
 * ```
 */
export interface WebSocketEventLike {
  /** A message's data: `ArrayBuffer` for binary frames with `binaryType = "arraybuffer"`, `string` for text. */
  readonly data?: unknown;
  /** A close event's code. */
  readonly code?: number;
  /** A close event's reason. */
  readonly reason?: string;
  /** An error event's message (`ws` package, Node). */
  readonly message?: string;
}

/**
 * The part of the WebSocket API the transport uses; the standard `WebSocket` and the `ws` package have it.
 *
 * @example
 * ```ts
 * import type { WebSocketLike } from "./ws.ts";
 * // the standard WebSocket fits
 * function isOpen(ws: WebSocketLike): boolean {
 *   return ws.readyState === 1;
 * }
 * console.assert(typeof isOpen === "function");
 * ```
 */
export interface WebSocketLike {
  /** Set to `"arraybuffer"`. */
  binaryType: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet on the network. */
  readonly bufferedAmount: number;
  /** Sends one binary frame. */
  send(data: Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Listens to `open`, `message`, `close` and `error`; the events are read as {@linkcode WebSocketEventLike}. */
  addEventListener(type: string, listener: (event: unknown) => void): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` of the `ws` package.
 *
 * @example
 * ```ts
 * import WebSocket from "ws";
 * import type { WebSocketConstructor } from "./ws.ts";
 * const fromPackage: WebSocketConstructor = WebSocket;
 * const standard: WebSocketConstructor = globalThis.WebSocket;
 * console.assert(fromPackage !== standard);
 * ```
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Options of {@linkcode createWsDialer}.
 *
 * @example
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createWsDialer, type WsDialerOptions } from "./ws.ts";
 * const options: WsDialerOptions = { url: "wss://game.example/ws", protocols: ["due"] };
 * const client = createClient(createWsDialer(options));
 * await client.close();
 * ```
 */
export interface WsDialerOptions {
  /** `ws://` or `wss://` URL of the gate's WebSocket server, e.g. `ws://127.0.0.1:3554/`. */
  url: string;
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** The WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Bytes the socket may hold buffered before writes fail. @default {DEFAULT_MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
}

/**
 * Creates a dialer of WebSocket connections.
 *
 * @throws {TypeError} when `url` is not a ws/wss URL, or no WebSocket constructor is available
 * @example In Node 20, with the `ws` package
 * ```ts
 * import WebSocket from "ws";
 * import { createClient } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/", WebSocket }));
 * await client.close();
 * ```
 */
export function createWsDialer(options: WsDialerOptions): Dialer {
  const {
    url,
    protocols,
    WebSocket: Ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
    maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES,
  } = options;
  if (typeof url !== "string" || !/^wss?:\/\//i.test(url)) {
    throw new TypeError(
      `Cannot create WebSocket dialer as 'url' must start with ws:// or wss://: current value is ${
        JSON.stringify(url)
      }`,
    );
  }
  if (typeof Ctor !== "function") {
    throw new TypeError(
      "Cannot create WebSocket dialer as there is no global WebSocket: pass 'WebSocket' (in Node 20, the ws package's)",
    );
  }
  return {
    addr: url,
    framing: "packet",
    dial(handlers, dialOptions = {}) {
      const { signal } = dialOptions;
      signal?.throwIfAborted();
      const transport = new WsTransport(new Ctor(url, protocols), handlers, maxQueuedBytes);
      return transport.opened(url, signal);
    },
  } satisfies Dialer;
}

/**
 * Options of {@linkcode connectWs}: where, and how the client behaves.
 *
 * @example
 * ```ts
 * import { connectWs, type ConnectWsOptions } from "./ws.ts";
 * const options: ConnectWsOptions = { url: "ws://127.0.0.1:3554/", reconnect: true, heartbeatIntervalMs: 5000 };
 * const client = await connectWs(options);
 * await client.close();
 * ```
 */
export interface ConnectWsOptions extends WsDialerOptions, ClientOptions {
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Connects a client over WebSocket and resolves once it is open.
 *
 * @throws {TypeError} when `url` is not a ws/wss URL, or no WebSocket constructor is available
 * @throws {RangeError} when a client option is out of range
 * @throws {DueError} when the connection cannot be made (as a rejection)
 *
 * @example
 * ```ts
 * import { connectWs } from "./ws.ts";
 * const client = await connectWs({ url: "ws://127.0.0.1:3554/" });
 * console.log(await client.request(1, { message: "hi" }));
 * await client.close();
 * ```
 */
export async function connectWs(options: ConnectWsOptions): Promise<Client> {
  const client = createClient(createWsDialer(options), options);
  await client.connect({ signal: options.signal });
  return client;
}

/** One WebSocket. Listeners are attached before it opens, so no frame is missed. */
class WsTransport implements Transport {
  readonly #ws: WebSocketLike;
  readonly #handlers: TransportHandlers;
  readonly #maxQueuedBytes: number;
  #open = false;
  #closing = false;
  #error: string | undefined;
  #onOpen: (() => void) | undefined;
  #onFailedOpen: ((error: Error) => void) | undefined;
  #onClosed: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(ws: WebSocketLike, handlers: TransportHandlers, maxQueuedBytes: number) {
    this.#ws = ws;
    this.#handlers = handlers;
    this.#maxQueuedBytes = maxQueuedBytes;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("open", () => {
      this.#open = true;
      this.#onOpen?.();
    });
    ws.addEventListener("message", (event) => this.#message((event as WebSocketEventLike).data));
    ws.addEventListener("error", (event) => {
      this.#error ??= (event as WebSocketEventLike).message || "WebSocket error";
    });
    ws.addEventListener("close", (event) => this.#close(event as WebSocketEventLike));
  }

  /** Resolves with this transport once open; rejects if it fails first or `signal` aborts. */
  opened(url: string, signal?: AbortSignal): Promise<Transport> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#closing = true;
        this.#ws.close();
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#onOpen = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this);
      };
      this.#onFailedOpen = (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(new Error(`WebSocket to ${url} did not open: ${error.message}`));
      };
    });
  }

  write(bytes: Uint8Array): boolean {
    const ws = this.#ws;
    if (this.#closing || ws.readyState !== OPEN || ws.bufferedAmount + bytes.length > this.#maxQueuedBytes) {
      return false;
    }
    ws.send(bytes);
    return true;
  }

  close(): Promise<void> {
    return this.#closed ??= new Promise<void>((resolve) => {
      this.#closing = true;
      if (this.#ws.readyState === CLOSED) return resolve();
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      this.#onClosed = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#ws.close(1000);
    });
  }

  #message(data: unknown): void {
    if (this.#closing || !this.#open) return;
    if (data instanceof ArrayBuffer) this.#handlers.onData(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) {
      this.#handlers.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    // text frames (and anything else) are ignored, as the gate does
  }

  #close(event: WebSocketEventLike): void {
    this.#onClosed?.();
    const detail = `code ${event.code ?? "?"}${event.reason ? ` (${event.reason})` : ""}${
      this.#error ? `: ${this.#error}` : ""
    }`;
    if (!this.#open) {
      this.#onFailedOpen?.(new Error(`closed with ${detail}`));
      return;
    }
    if (this.#closing) return;
    this.#closing = true;
    this.#handlers.onClose(event.code === 1000 ? undefined : new Error(`WebSocket closed with ${detail}`));
  }
}

/**
 * The client core: request/response pairing by (route, seq), pushes, heartbeats with dead-server detection, and
 * optional reconnect, over any {@linkcode Dialer} (TCP in Deno or Node, WebSocket anywhere).
 *
 * Why this file is longer than 400 lines (about half of it JSDoc): it is one class whose parts (pending requests,
 * the heartbeat ticker, reconnect, the read path) share one piece of state, the current connection, and must tear
 * it down together. Splitting them would spread that teardown over several files. The public types are in
 * `types.ts`.
 *
 * @module
 */

import { createJsonCodec } from "../adapters/codec/json.ts";
import type { Codec } from "../adapters/codec/types.ts";
import { ClosedError, DueError, ErrorCode, errorMessage, TimeoutError } from "../core/errors.ts";
import { LateTickGuard } from "../core/late_tick.ts";
import { FeedResult, FrameReader } from "../core/frame_reader.ts";
import {
  createPacketFormat,
  decodePacket,
  encodeHeartbeat,
  encodeMessage,
  type PacketFormat,
  SIZE_BYTES,
} from "../core/packet.ts";
import { backoffDelay } from "./_backoff.ts";
import type { Dialer, Transport, TransportHandlers } from "./transport.ts";
import type {
  ClientOptions,
  ClientState,
  ClientStats,
  CloseInfo,
  Message,
  PayloadEncryptor,
  PushHandler,
  ReconnectOptions,
  RequestOptions,
  SendOptions,
} from "./types.ts";

export type {
  ClientOptions,
  ClientState,
  ClientStats,
  CloseInfo,
  Message,
  PayloadEncryptor,
  PushHandler,
  ReconnectOptions,
  RequestOptions,
  SendOptions,
} from "./types.ts";

/**
 * Interval between the client's heartbeats: 10 s, due's `heartbeatInterval`.
 *
 * @example
 * ```ts
 * import { createClient, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * // a gate configured with heartbeatInterval = "20s"
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), {
 *   heartbeatIntervalMs: 2 * DEFAULT_HEARTBEAT_INTERVAL_MS,
 * });
 * await client.close();
 * ```
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/**
 * How long {@linkcode Client.request} waits for a reply: 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_REQUEST_TIMEOUT_MS } from "./client.ts";
 * console.assert(DEFAULT_REQUEST_TIMEOUT_MS === 10_000);
 * ```
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/**
 * How long connecting may take: 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECT_TIMEOUT_MS } from "./client.ts";
 * console.assert(DEFAULT_CONNECT_TIMEOUT_MS === 10_000);
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Reconnect settings used by `reconnect: true`.
 *
 * @example
 * ```ts
 * import { createClient, DEFAULT_RECONNECT_OPTIONS } from "./client.ts";
 * import { createWsDialer } from "./ws.ts";
 * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), {
 *   reconnect: { ...DEFAULT_RECONNECT_OPTIONS, maxRetries: 100 },
 * });
 * await client.close();
 * ```
 */
export const DEFAULT_RECONNECT_OPTIONS: Readonly<ReconnectOptions> = Object.freeze({
  maxRetries: 10,
  minDelayMs: 500,
  maxDelayMs: 30_000,
});

interface Pending {
  route: number;
  seq: number;
  resolve(message: Message): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Creates a client over `dialer`; call {@linkcode Client.connect} to open it. `connectTcp` and `connectWs` in
 * `client/mod.ts` do both in one call.
 *
 * @throws {RangeError} when an option is out of range
 * @example A client over TCP with little-endian packets
 * ```ts
 * import { createClient } from "./client.ts";
 * import { createDenoTcpDialer } from "./tcp_deno.ts";
 *
 * const client = createClient(createDenoTcpDialer({ addr: "127.0.0.1:3553" }), { byteOrder: "little" });
 * console.assert(client.state === "idle");
 * await client.close();
 * ```
 */
export function createClient(dialer: Dialer, options: ClientOptions = {}): Client {
  return new Client(dialer, options);
}

/**
 * A connection to a gate. See {@linkcode createClient}.
 *
 * @example Request, push and close
 * ```ts
 * import { connectTcp } from "./mod.ts";
 *
 * const client = await connectTcp({ addr: "127.0.0.1:3553" });
 * client.on<{ text: string }>(2, (push) => console.log("push", push.text));
 * const reply = await client.request<{ message: string }>(1, { message: "hi" }, { timeoutMs: 3000 });
 * console.log(reply.message);
 * await client.close();
 * ```
 */
export class Client {
  /** The resolved packet layout. */
  readonly format: PacketFormat;
  /** The payload codec. */
  readonly codec: Codec;
  readonly #encryptor: PayloadEncryptor | undefined;
  /** The address dialed. */
  readonly addr: string;
  /** Resolves once the client is closed for good (never rejects). */
  readonly closed: Promise<CloseInfo>;

  readonly #dialer: Dialer;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #reconnect: ReconnectOptions | undefined;
  readonly #heartbeat: Uint8Array;
  /** Largest `size` accepted: the data limit, and at least a timed heartbeat. */
  readonly #maxSize: number;
  #resolveClosed!: (info: CloseInfo) => void;

  #state: ClientState = "idle";
  #connecting: Promise<void> | undefined;
  /** Bumped per connection, so events of a connection torn down are ignored. */
  #generation = 0;
  #transport: Transport | undefined;
  #reader: FrameReader | undefined;
  #dialAbort: AbortController | undefined;
  /** Transports being closed; {@linkcode close} waits for them. */
  readonly #releases = new Set<Promise<void>>();
  #lastReceivedAt = 0;
  /** Excuses the gate's silence during this process's busy spells. */
  #tickGuard: LateTickGuard | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #lastDialError: Error | undefined;

  readonly #pending = new Map<number, Pending>();
  #lastSeq = 0;

  readonly #routeHandlers = new Map<number, PushHandler[]>();
  readonly #anyHandlers: ((message: Message) => void)[] = [];
  readonly #heartbeatHandlers: ((timeNs?: bigint) => void)[] = [];
  readonly #openHandlers: (() => void)[] = [];
  readonly #closeHandlers: ((info: CloseInfo) => void)[] = [];
  readonly #errorHandlers: ((error: Error) => void)[] = [];
  readonly #reconnectHandlers: ((attempts: number) => void)[] = [];
  readonly #stats: ClientStats = {
    packetsSent: 0,
    packetsReceived: 0,
    heartbeatsSent: 0,
    heartbeatsReceived: 0,
    pushes: 0,
    unhandledPushes: 0,
    unmatchedReplies: 0,
    reconnects: 0,
    errors: 0,
  };

  /** Frames from the stream reader: valid only during the call, so payloads are copied. */
  readonly #onFrame = (frame: Uint8Array): void => this.#onPacket(frame, true);
  readonly #onHeartbeatTick = (): void => this.#tick();
  readonly #onReconnectTimer = (): void => {
    this.#reconnectTimer = undefined;
    this.#reconnectOnce();
  };

  /**
   * Creates a client that is not connected yet; {@linkcode createClient} does the same.
   *
   * @param dialer opens the connections
   * @param options packet layout, codec, timeouts, heartbeats, reconnect
   * @throws {RangeError} when an option is out of range
   */
  constructor(dialer: Dialer, options: ClientOptions = {}) {
    const {
      byteOrder,
      routeBytes,
      seqBytes,
      bufferBytes,
      codec = createJsonCodec(),
      timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
      connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
      heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
      reconnect = false,
      encryptor,
    } = options;
    this.#encryptor = encryptor;
    this.format = createPacketFormat({ byteOrder, routeBytes, seqBytes, bufferBytes });
    checkDuration("timeoutMs", timeoutMs, false);
    checkDuration("connectTimeoutMs", connectTimeoutMs, false);
    checkDuration("heartbeatIntervalMs", heartbeatIntervalMs, true);
    this.#reconnect = reconnect === false ? undefined : reconnectOptions(reconnect);
    this.codec = codec;
    this.addr = dialer.addr;
    this.#dialer = dialer;
    this.#timeoutMs = timeoutMs;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#heartbeatIntervalMs = heartbeatIntervalMs;
    this.#heartbeat = encodeHeartbeat(this.format);
    this.#maxSize = Math.max(this.format.maxSize, 9);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** Where the client is in its life. */
  get state(): ClientState {
    return this.#state;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<ClientStats> {
    return { ...this.#stats };
  }

  /** Requests waiting for their reply. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /**
   * Opens the connection. Calling it while connecting or open returns the same attempt. If it fails the client
   * stays `idle` and may try again; automatic reconnect applies only to a connection that was open.
   *
   * @throws {TimeoutError} when no connection is made within `connectTimeoutMs` (as a rejection)
   * @throws {DueError} code `unavailable` when the dial fails (as a rejection)
   * @throws {ClosedError} when the client was closed (as a rejection)
   */
  connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#state === "open") return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    if (this.#state !== "idle") {
      return Promise.reject(
        new ClosedError(`Cannot connect to ${this.addr} as the client is ${this.#state}`),
      );
    }
    this.#state = "connecting";
    const connecting = this.#dial(options.signal).then(
      () => {
        this.#connecting = undefined;
        this.#emit(this.#openHandlers);
      },
      (err) => {
        this.#connecting = undefined;
        if (this.#state === "connecting") this.#state = "idle";
        throw err;
      },
    );
    this.#connecting = connecting;
    return connecting;
  }

  /**
   * Sends `data` on `route` with a fresh seq and resolves with the decoded reply: the next data packet with the
   * same route and seq.
   *
   * @throws {TypeError} when the format has no seq (`seqBytes: 0`) (as a rejection, like every error below)
   * @throws {RangeError} when the route does not fit or the payload exceeds `bufferBytes`
   * @throws {TimeoutError} when no reply comes within `timeoutMs`; a reply that comes later goes to the pushes
   * @throws {ClosedError} when the client is not open or closes before the reply
   * @throws {DueError} code `queue_full` when every seq is pending or the write queue is full
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * const reply = await client.request<{ message: string }>(1, { message: "hi" });
   * console.log(reply.message);
   * await client.close();
   * ```
   */
  request<T = unknown>(route: number, data?: unknown, options: RequestOptions = {}): Promise<T> {
    const replyType = options.replyType;
    return this.requestRaw(route, data, options).then((message) =>
      this.#decode<T>(message.payload, replyType)
    );
  }

  /**
   * Like {@linkcode request}, but resolves with the reply as received, payload not decoded (for tools).
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * const { route, seq, payload } = await client.requestRaw(1, new Uint8Array([1, 2, 3]));
   * console.log(route, seq, payload.length);
   * await client.close();
   * ```
   */
  requestRaw(route: number, data?: unknown, options: RequestOptions = {}): Promise<Message> {
    const { timeoutMs = this.#timeoutMs, signal, type } = options;
    let packet: Uint8Array;
    let seq: number;
    try {
      if (this.format.seqBytes === 0) {
        throw new TypeError(
          `Cannot request route ${route} as 'seqBytes' is 0: a reply cannot be paired without a seq, use send() and on()`,
        );
      }
      checkDuration("timeoutMs", timeoutMs, false);
      signal?.throwIfAborted();
      this.#assertOpen(`request route ${route}`);
      seq = this.#nextSeq(route);
      packet = encodeMessage(this.format, route, seq, this.#encode(data, type));
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Message>((resolve, reject) => {
      const pending: Pending = {
        route,
        seq,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(pending);
          reject(
            new TimeoutError(`Cannot request route ${route}: no reply within ${timeoutMs} ms (seq ${seq})`, {
              addr: this.addr,
              route,
            }),
          );
        }, timeoutMs),
        signal,
        onAbort: undefined,
      };
      if (signal) {
        pending.onAbort = () => {
          this.#settle(pending);
          reject(signal.reason);
        };
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#pending.set(seq, pending);
      try {
        this.#write(packet, `request route ${route}`);
      } catch (err) {
        this.#settle(pending);
        reject(err);
      }
    });
  }

  /**
   * Sends `data` on `route` with seq 0 (or `options.seq`); no reply is expected.
   *
   * @throws {RangeError} when route or seq do not fit, or the payload exceeds `bufferBytes`
   * @throws {ClosedError} when the client is not open
   * @throws {DueError} code `queue_full` when the write queue is full
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * client.send(3, { x: 1, y: 2 });
   * await client.close();
   * ```
   */
  send(route: number, data?: unknown, options: SendOptions = {}): void {
    const { seq = 0, type } = options;
    this.#assertOpen(`send route ${route}`);
    this.#write(encodeMessage(this.format, route, seq, this.#encode(data, type)), `send route ${route}`);
  }

  /**
   * Adds a handler for the pushes of `route`: data packets that match no pending request. The data is decoded
   * with the codec; a payload that cannot be decoded is reported through {@linkcode onError}.
   *
   * @returns a function that removes the handler
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * const stop = client.on<{ text: string }>(2, (data, message) => console.log(message.seq, data.text));
   * stop();
   * await client.close();
   * ```
   */
  on<T = unknown>(route: number, handler: PushHandler<T>): () => void {
    if (!Number.isInteger(route)) {
      throw new TypeError(`Cannot add push handler as 'route' must be an integer: current value is ${route}`);
    }
    let handlers = this.#routeHandlers.get(route);
    if (!handlers) this.#routeHandlers.set(route, handlers = []);
    handlers.push(handler as PushHandler);
    return () => this.off(route, handler);
  }

  /**
   * Removes `handler` from the pushes of `route`, or every handler of `route` when `handler` is omitted.
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * client.on(2, console.log);
   * client.off(2);
   * await client.close();
   * ```
   */
  off<T = unknown>(route: number, handler?: PushHandler<T>): void {
    const handlers = this.#routeHandlers.get(route);
    if (!handlers) return;
    if (handler) remove(handlers, handler as PushHandler);
    if (!handler || handlers.length === 0) this.#routeHandlers.delete(route);
  }

  /**
   * Adds a handler for every push, whatever its route, with the raw message (not decoded; use
   * {@linkcode codec} if needed). Runs before the route's handlers.
   *
   * @returns a function that removes the handler
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * client.onAny((message) => console.log(message.route, message.payload.length));
   * await client.close();
   * ```
   */
  onAny(handler: (message: Message) => void): () => void {
    return listen(this.#anyHandlers, handler);
  }

  /**
   * Adds a handler for the server's heartbeats. `timeNs` is the server's clock in nanoseconds since the epoch when
   * the gate has `packet.heartbeatTime` on, else `undefined`.
   *
   * @returns a function that removes the handler
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * client.onHeartbeat((timeNs) => {
   *   if (timeNs !== undefined) console.log("server time", new Date(Number(timeNs / 1_000_000n)));
   * });
   * await client.close();
   * ```
   */
  onHeartbeat(handler: (timeNs?: bigint) => void): () => void {
    return listen(this.#heartbeatHandlers, handler);
  }

  /**
   * Adds a handler called each time a connection opens (the first and every reconnect).
   *
   * @example
   * ```ts
   * import { createClient } from "./client.ts";
   * import { createWsDialer } from "./ws.ts";
   * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
   * client.onOpen(() => console.log("open"));
   * await client.close();
   * ```
   */
  onOpen(handler: () => void): () => void {
    return listen(this.#openHandlers, handler);
  }

  /**
   * Adds a handler called each time a connection closes, with the reason and whether the client reconnects.
   *
   * @example
   * ```ts
   * import { createClient } from "./client.ts";
   * import { createWsDialer } from "./ws.ts";
   * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), { reconnect: true });
   * client.onClose(({ reason, reconnecting }) => console.log(reason, reconnecting));
   * await client.close();
   * ```
   */
  onClose(handler: (info: CloseInfo) => void): () => void {
    return listen(this.#closeHandlers, handler);
  }

  /**
   * Adds a handler of errors that do not close the client: a push that cannot be decoded, a handler that threw.
   * Without any error handler such errors are written to `console.error`; they are counted either way.
   *
   * @example
   * ```ts
   * import { createClient } from "./client.ts";
   * import { createWsDialer } from "./ws.ts";
   * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }));
   * client.onError((error) => console.warn(error.message));
   * await client.close();
   * ```
   */
  onError(handler: (error: Error) => void): () => void {
    return listen(this.#errorHandlers, handler);
  }

  /**
   * Adds a handler called after a successful reconnect, with the number of attempts it took.
   *
   * @example
   * ```ts
   * import { createClient } from "./client.ts";
   * import { createWsDialer } from "./ws.ts";
   * const client = createClient(createWsDialer({ url: "ws://127.0.0.1:3554/" }), { reconnect: true });
   * client.onReconnect((attempts) => console.log("back after", attempts, "attempts"));
   * await client.close();
   * ```
   */
  onReconnect(handler: (attempts: number) => void): () => void {
    return listen(this.#reconnectHandlers, handler);
  }

  /**
   * Closes the client for good: rejects every pending request with a {@linkcode ClosedError}, stops every timer,
   * and resolves once the socket is released.
   *
   * @example
   * ```ts
   * import { connectTcp } from "./mod.ts";
   * const client = await connectTcp({ addr: "127.0.0.1:3553" });
   * await client.close();
   * console.assert(client.state === "closed");
   * ```
   */
  async close(reason = "closed by the client"): Promise<void> {
    if (this.#state !== "closed") {
      const error = new ClosedError(`Cannot wait for ${this.addr}: ${reason}`, { addr: this.addr });
      this.#dialAbort?.abort(error);
      this.#teardown(error);
      this.#finish({ reason, reconnecting: false });
    }
    while (this.#releases.size !== 0) await Promise.all(this.#releases);
  }

  // ---- connection ------------------------------------------------------------------------------------------------

  /** Dials once, under `connectTimeoutMs` and `signal`; on success the connection is installed and open. */
  async #dial(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const generation = ++this.#generation;
    const abort = new AbortController();
    this.#dialAbort = abort;
    const onAbort = () => abort.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() =>
      abort.abort(
        new TimeoutError(
          `Cannot connect to ${this.addr}: no connection within ${this.#connectTimeoutMs} ms`,
          {
            addr: this.addr,
          },
        ),
      ), this.#connectTimeoutMs);
    const reader = this.#dialer.framing === "stream"
      ? new FrameReader({ little: this.format.little, maxSize: this.#maxSize }, this.#onFrame)
      : undefined;
    let installed = false;
    let closedEarly: Error | undefined;
    const handlers: TransportHandlers = {
      onData: (bytes) => {
        if (generation === this.#generation) this.#onData(bytes, reader);
      },
      onAlive: () => {
        if (generation === this.#generation) this.#lastReceivedAt = performance.now();
      },
      onClose: (error) => {
        if (generation !== this.#generation) return;
        if (!installed) {
          closedEarly = error ?? new Error("closed by the peer");
          return;
        }
        this.#lost(
          new DueError(
            ErrorCode.Closed,
            `Cannot talk to ${this.addr}: the connection closed${error ? `: ${error.message}` : ""}`,
            { addr: this.addr, cause: error },
          ),
          false,
        );
      },
    };
    let transport: Transport;
    try {
      transport = await raceAbort(
        this.#dialer.dial(handlers, { signal: abort.signal }),
        abort.signal,
        (late) => this.#release(late),
      );
    } catch (err) {
      if (abort.signal.aborted) throw abort.signal.reason;
      throw new DueError(ErrorCode.Unavailable, `Cannot connect to ${this.addr}: ${errorMessage(err)}`, {
        addr: this.addr,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (this.#dialAbort === abort) this.#dialAbort = undefined;
    }
    if (generation !== this.#generation) {
      this.#release(transport);
      throw new ClosedError(`Cannot connect to ${this.addr} as the client closed meanwhile`, {
        addr: this.addr,
      });
    }
    if (closedEarly) {
      this.#release(transport);
      throw new DueError(ErrorCode.Unavailable, `Cannot connect to ${this.addr}: ${closedEarly.message}`, {
        addr: this.addr,
        cause: closedEarly,
      });
    }
    installed = true;
    this.#state = "open";
    this.#transport = transport;
    this.#reader = reader;
    this.#lastReceivedAt = performance.now();
    if (this.#heartbeatIntervalMs > 0) {
      this.#tickGuard = new LateTickGuard(this.#heartbeatIntervalMs, this.#lastReceivedAt);
      this.#heartbeatTimer = setInterval(this.#onHeartbeatTick, this.#heartbeatIntervalMs);
    }
  }

  /** The connection ended without {@linkcode close}: reconnect or close for good. */
  #lost(error: Error, final: boolean): void {
    if (this.#state !== "open") return;
    this.#teardown(error);
    if (!final && this.#reconnect) {
      this.#state = "reconnecting";
      this.#attempt = 0;
      this.#lastDialError = undefined;
      this.#emit(this.#closeHandlers, { reason: error.message, error, reconnecting: true });
      if (this.#state === "reconnecting") this.#scheduleReconnect();
    } else {
      this.#finish({ reason: error.message, error, reconnecting: false });
    }
  }

  #scheduleReconnect(): void {
    const { maxRetries, minDelayMs, maxDelayMs } = this.#reconnect!;
    if (this.#attempt >= maxRetries) {
      this.#finish({
        reason: `Cannot reconnect to ${this.addr}: gave up after ${maxRetries} attempts`,
        error: this.#lastDialError,
        reconnecting: false,
      });
      return;
    }
    this.#attempt++;
    this.#reconnectTimer = setTimeout(
      this.#onReconnectTimer,
      backoffDelay(this.#attempt, minDelayMs, maxDelayMs),
    );
  }

  async #reconnectOnce(): Promise<void> {
    try {
      await this.#dial();
    } catch (err) {
      if (this.#state !== "reconnecting") return;
      this.#lastDialError = err instanceof Error ? err : new Error(String(err));
      this.#scheduleReconnect();
      return;
    }
    const attempts = this.#attempt;
    this.#attempt = 0;
    this.#stats.reconnects++;
    this.#emit(this.#reconnectHandlers, attempts);
    if (this.#state === "open") this.#emit(this.#openHandlers);
  }

  /** Drops the current connection: stale events are ignored, timers stop, pending requests reject. */
  #teardown(error: Error): void {
    this.#generation++;
    this.#reader?.stop();
    this.#reader = undefined;
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const transport = this.#transport;
    this.#transport = undefined;
    if (transport) this.#release(transport);
    for (const pending of [...this.#pending.values()]) {
      this.#settle(pending);
      pending.reject(
        new ClosedError(
          `Cannot request route ${pending.route}: the connection closed before the reply (${error.message})`,
          { addr: this.addr, route: pending.route, cause: error },
        ),
      );
    }
  }

  #finish(info: CloseInfo): void {
    this.#state = "closed";
    this.#emit(this.#closeHandlers, info);
    this.#resolveClosed(info);
  }

  #release(transport: Transport): void {
    const released: Promise<void> = transport.close()
      .catch(() => {})
      .finally(() => this.#releases.delete(released));
    this.#releases.add(released);
  }

  #tick(): void {
    const now = performance.now();
    // A busy spell of this process is not the gate's silence: what it sent meanwhile may still be unread.
    const silentMs = now - Math.max(this.#lastReceivedAt, this.#tickGuard!.tick(now));
    if (silentMs > 2 * this.#heartbeatIntervalMs) {
      this.#lost(
        new TimeoutError(
          `Cannot hear ${this.addr}: no packet for ${
            Math.round(silentMs)
          } ms, more than 2 × heartbeatIntervalMs (${this.#heartbeatIntervalMs} ms)`,
          { addr: this.addr },
        ),
        false,
      );
      return;
    }
    if (this.#transport?.write(this.#heartbeat)) this.#stats.heartbeatsSent++;
  }

  // ---- reading ---------------------------------------------------------------------------------------------------

  #onData(bytes: Uint8Array, reader: FrameReader | undefined): void {
    this.#lastReceivedAt = performance.now();
    if (reader) {
      if (reader.feed(bytes) === FeedResult.TooLarge) this.#tooLarge(reader.lastSize);
    } else if (bytes.length > this.#maxSize + SIZE_BYTES) {
      this.#tooLarge(bytes.length - SIZE_BYTES);
    } else {
      this.#onPacket(bytes, false);
    }
  }

  #tooLarge(size: number): void {
    this.#lost(
      new DueError(
        ErrorCode.PacketTooLarge,
        `Cannot read packet from ${this.addr}: size ${size} is above the limit of ${this.#maxSize} (packet.bufferBytes ${this.format.bufferBytes} + ${this.format.dataHeaderBytes} header bytes)`,
        { addr: this.addr },
      ),
      true,
    );
  }

  #onPacket(packet: Uint8Array, copy: boolean): void {
    this.#stats.packetsReceived++;
    let decoded;
    try {
      decoded = decodePacket(this.format, packet);
    } catch (err) {
      this.#lost(
        new DueError(
          ErrorCode.InvalidPacket,
          `Cannot read packet from ${this.addr}: ${
            errorMessage(err)
          }; do the packet options match the server's?`,
          { addr: this.addr, cause: err },
        ),
        true,
      );
      return;
    }
    if (decoded === undefined) return;
    if (decoded.kind === "heartbeat") {
      this.#stats.heartbeatsReceived++;
      this.#emit(this.#heartbeatHandlers, decoded.timeNs);
      return;
    }
    const { route, seq } = decoded;
    const message: Message = { route, seq, payload: copy ? decoded.payload.slice() : decoded.payload };
    if (seq !== 0) {
      const pending = this.#pending.get(seq);
      if (pending !== undefined && pending.route === route) {
        this.#settle(pending);
        pending.resolve(message);
        return;
      }
      this.#stats.unmatchedReplies++;
    }
    this.#push(message);
  }

  #push(message: Message): void {
    this.#stats.pushes++;
    const handlers = this.#routeHandlers.get(message.route);
    if (!handlers && this.#anyHandlers.length === 0) {
      this.#stats.unhandledPushes++;
      return;
    }
    this.#emit(this.#anyHandlers, message);
    if (!handlers) return;
    let data: unknown;
    try {
      data = this.#decode(message.payload, undefined);
    } catch (err) {
      this.#reportError(
        new DueError(
          ErrorCode.InvalidPacket,
          `Cannot decode push on route ${message.route} with codec ${this.codec.name}: ${errorMessage(err)}`,
          { addr: this.addr, route: message.route, cause: err },
        ),
      );
      return;
    }
    for (const handler of [...handlers]) {
      try {
        handler(data, message);
      } catch (err) {
        this.#reportError(err);
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  #assertOpen(action: string): void {
    if (this.#state !== "open") {
      throw new ClosedError(`Cannot ${action} as the client is ${this.#state}`, { addr: this.addr });
    }
  }

  /** The next free positive seq, wrapping within the signed range and skipping pending ones. */
  #nextSeq(route: number): number {
    const max = this.format.maxSeq;
    if (this.#pending.size >= max) {
      throw new DueError(
        ErrorCode.QueueFull,
        `Cannot request route ${route}: all ${max} seqs of seqBytes ${this.format.seqBytes} are waiting for replies`,
        { addr: this.addr, route },
      );
    }
    let seq = this.#lastSeq;
    do seq = seq >= max ? 1 : seq + 1; while (this.#pending.has(seq));
    this.#lastSeq = seq;
    return seq;
  }

  #encode(data: unknown, type: string | undefined): Uint8Array {
    const payload = data instanceof Uint8Array ? data : this.codec.encode(data, type);
    return this.#encryptor ? this.#encryptor.encrypt(payload) : payload;
  }

  #decode<T>(payload: Uint8Array, type: string | undefined): T {
    return this.codec.decode<T>(
      this.#encryptor && payload.length > 0 ? this.#encryptor.decrypt(payload) : payload,
      type,
    );
  }

  #write(packet: Uint8Array, action: string): void {
    if (!this.#transport!.write(packet)) {
      throw new DueError(ErrorCode.QueueFull, `Cannot ${action}: the write queue to ${this.addr} is full`, {
        addr: this.addr,
      });
    }
    this.#stats.packetsSent++;
  }

  #settle(pending: Pending): void {
    this.#pending.delete(pending.seq);
    clearTimeout(pending.timer);
    if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
  }

  #emit<A extends unknown[]>(handlers: ((...args: A) => void)[], ...args: A): void {
    for (const handler of handlers.length === 1 ? handlers : [...handlers]) {
      try {
        handler(...args);
      } catch (err) {
        this.#reportError(err);
      }
    }
  }

  #reportError(err: unknown): void {
    this.#stats.errors++;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.#errorHandlers.length === 0) {
      console.error(error);
      return;
    }
    for (const handler of [...this.#errorHandlers]) {
      try {
        handler(error);
      } catch (thrown) {
        console.error(thrown);
      }
    }
  }
}

function listen<H>(handlers: H[], handler: H): () => void {
  handlers.push(handler);
  return () => remove(handlers, handler);
}

function remove<H>(handlers: H[], handler: H): void {
  const i = handlers.indexOf(handler);
  if (i >= 0) handlers.splice(i, 1);
}

const MAX_TIMER_MS = 0x7fff_ffff;

function checkDuration(name: string, value: number, zeroAllowed: boolean): void {
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1) || value > MAX_TIMER_MS) {
    throw new RangeError(
      `Cannot create client as '${name}' must be an integer in [${
        zeroAllowed ? 0 : 1
      }, ${MAX_TIMER_MS}] ms: current value is ${value}`,
    );
  }
}

function reconnectOptions(reconnect: true | Partial<ReconnectOptions>): ReconnectOptions {
  const { maxRetries, minDelayMs, maxDelayMs } = {
    ...DEFAULT_RECONNECT_OPTIONS,
    ...(reconnect === true ? {} : reconnect),
  };
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(
      `Cannot create client as 'reconnect.maxRetries' must be a non-negative integer: current value is ${maxRetries}`,
    );
  }
  checkDuration("reconnect.minDelayMs", minDelayMs, false);
  checkDuration("reconnect.maxDelayMs", maxDelayMs, false);
  if (maxDelayMs < minDelayMs) {
    throw new RangeError(
      `Cannot create client as 'reconnect.maxDelayMs' must be at least 'reconnect.minDelayMs' (${minDelayMs}): current value is ${maxDelayMs}`,
    );
  }
  return { maxRetries, minDelayMs, maxDelayMs };
}

/** Resolves like `promise` unless `signal` aborts first; a value that comes after the abort goes to `onLate`. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onLate: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) onLate(value);
        else resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

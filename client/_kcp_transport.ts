/**
 * The KCP transport of the client (private to `client/`), shared by Deno (`kcp_deno.ts`) and Node (`kcp_node.ts`):
 * one {@linkcode Kcp} endpoint in stream mode over a datagram socket the caller owns. Writes of one tick are
 * merged into full segments and flushed once; with `ackNoDelay` ACKs go out at the end of the event-loop turn of
 * their input (`setImmediate`), on a request written in that turn if there is one; one timer runs the endpoint's
 * clock while data is queued or in flight.
 *
 * Opening: KCP has no handshake, so the transport sends a no-op client packet (`00 00 00 00`, size 0, ignored by
 * the gate whatever its byte order) and counts as open once the gate acknowledges it. A gate that refuses the
 * session (limits) does not answer: the dial then times out.
 *
 * @module
 */

import { type Kcp, KcpInputResult } from "../adapters/network/kcp/kcp.ts";
import {
  createStreamKcp,
  kcpNow,
  type KcpTunables,
  nextUpdateAt,
  type ResolvedKcpTunables,
  resolveKcpTunables,
  sendStream,
} from "../adapters/network/kcp/tunables.ts";
import { DEFAULT_MAX_QUEUED_BYTES, type Transport, type TransportHandlers } from "./transport.ts";

/** How long `close()` waits for queued and unacknowledged data to be acknowledged. */
const CLOSE_FLUSH_MS = 1000;
/** The no-op packet that opens a session. */
const OPENER = new Uint8Array(4);

/** Settings every KCP dialer (Deno, Node) takes. */
export interface KcpDialSettings extends KcpTunables {
  /** `host:port` of the gate's KCP server, e.g. `127.0.0.1:3555`. */
  addr: string;
  /** Conversation id, a u32; both ends use it. @default a random one per connection */
  conv?: number;
  /** Bytes a connection may hold queued or unacknowledged before writes fail. @default {DEFAULT_MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
}

/** Validated settings of a KCP dialer, defaults filled in. */
export interface KcpDialConfig {
  tunables: ResolvedKcpTunables;
  conv: number | undefined;
  maxQueuedBytes: number;
}

/**
 * Validates the settings shared by the KCP dialers.
 *
 * @throws {RangeError} when a setting is out of range
 */
export function kcpDialConfig(options: KcpDialSettings): KcpDialConfig {
  const tunables = resolveKcpTunables("create KCP dialer", options);
  const { conv, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES } = options;
  if (conv !== undefined && !(Number.isInteger(conv) && conv >= 0 && conv <= 0xffffffff)) {
    throw new RangeError(
      `Cannot create KCP dialer as 'conv' must be an integer in [0, 4294967295]: current value is ${conv}`,
    );
  }
  return { tunables, conv, maxQueuedBytes };
}

/** A random non-zero conversation id. */
export function randomConv(): number {
  const value = new Uint32Array(1);
  do crypto.getRandomValues(value); while (value[0] === 0);
  return value[0];
}

/** The socket side a {@linkcode KcpTransport} uses. */
export interface DatagramLink {
  /** Sends one datagram to the gate; copies it before returning (the bytes are reused). */
  send(datagram: Uint8Array): void;
  /** Closes the socket; resolves once it is released (receive loop ended). */
  close(): Promise<void>;
}

/** One KCP session of a client. */
export class KcpTransport implements Transport {
  readonly #kcp: Kcp;
  readonly #handlers: TransportHandlers;
  readonly #ackNoDelay: boolean;
  readonly #maxQueuedBytes: number;
  readonly #recvBuffer: Uint8Array;
  #link: DatagramLink | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #released: Promise<void> | undefined;
  #flushScheduled = false;
  #needsFlush = false;
  #ackImmediate: ReturnType<typeof setImmediate> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #opened: { resolve(): void; reject(error: unknown): void } | undefined;
  #drained: (() => void) | undefined;
  readonly #onFlush = (): void => {
    this.#flushScheduled = false;
    if (this.#closing && this.#drained === undefined) return;
    const now = kcpNow();
    this.#kcp.update(now >>> 0);
    this.#kcp.flush();
    if (this.#ackImmediate !== undefined) {
      clearImmediate(this.#ackImmediate);
      this.#ackImmediate = undefined;
    }
    this.#afterIo(now);
  };
  /** End of the turn of an input: send its ACKs unless a write already carried them. */
  readonly #onAckTurn = (): void => {
    this.#ackImmediate = undefined;
    if (this.#link === undefined) return;
    const now = kcpNow();
    this.#kcp.flush();
    this.#afterIo(now);
  };
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#link === undefined) return;
    const now = kcpNow();
    this.#needsFlush = false;
    this.#kcp.update(now >>> 0);
    this.#afterIo(now);
  };

  /**
   * @param conv the conversation id
   * @param tunables KCP settings
   * @param handlers where read bytes and the close go
   * @param maxQueuedBytes bytes queued or unacknowledged before writes fail
   */
  constructor(
    conv: number,
    tunables: ResolvedKcpTunables,
    handlers: TransportHandlers,
    maxQueuedBytes: number,
  ) {
    this.#kcp = createStreamKcp(conv, (datagram) => this.#link?.send(datagram), tunables);
    this.#handlers = handlers;
    this.#ackNoDelay = tunables.ackNoDelay;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#recvBuffer = new Uint8Array(tunables.mtu);
  }

  /** The conversation id. */
  get conv(): number {
    return this.#kcp.conv;
  }

  /**
   * Sends the opener over `link` and resolves once the gate acknowledges it; destroys the transport (closing the
   * link) when opening fails.
   *
   * @throws the signal's reason when `signal` aborts first, or the socket's error (as a rejection)
   */
  async open(link: DatagramLink, signal?: AbortSignal): Promise<void> {
    try {
      await this.#open(link, signal);
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  #open(link: DatagramLink, signal?: AbortSignal): Promise<void> {
    this.#link = link;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#opened = undefined;
        reject(signal!.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#opened = {
        resolve() {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject(error) {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.#kcp.send(OPENER);
      this.#onFlush();
    });
  }

  /** Feeds one datagram from the gate. */
  input(datagram: Uint8Array): void {
    if (this.#link === undefined || (this.#closing && this.#drained === undefined)) return;
    const kcp = this.#kcp;
    const now = kcpNow();
    kcp.update(now >>> 0);
    // A rejected datagram may still have had valid segments before the bad one.
    const valid = kcp.input(datagram) === KcpInputResult.Ok;
    const buf = this.#recvBuffer;
    let delivered = false;
    let n: number;
    while ((n = kcp.recv(buf)) >= 0) {
      if (n > 0 && !this.#closing) {
        delivered = true;
        this.#handlers.onData(buf.subarray(0, n));
      }
    }
    // An ACK, or a segment held back behind a lost one, is no data but proves the gate is there.
    if (valid && !delivered && !this.#closing) this.#handlers.onAlive?.();
    if (this.#link === undefined) return;
    if (kcp.hasPendingAcks) {
      if (!this.#ackNoDelay) this.#needsFlush = true;
      else this.#ackImmediate ??= setImmediate(this.#onAckTurn);
    }
    this.#afterIo(now);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    const kcp = this.#kcp;
    if (kcp.waitSnd() * kcp.mss + bytes.length > this.#maxQueuedBytes) return false;
    sendStream(kcp, bytes);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#onFlush);
    }
    return true;
  }

  close(): Promise<void> {
    return this.#closed ??= this.#close(true);
  }

  /** Closes at once, without waiting for unacknowledged data (a dial that failed). */
  destroy(): Promise<void> {
    return this.#closed ??= this.#close(false);
  }

  /** The socket failed: tell the client once, unless it is the one closing. */
  fail(error?: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#release();
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened) opened.reject(error ?? new Error("the KCP socket closed"));
    else this.#handlers.onClose(error);
  }

  async #close(flush: boolean): Promise<void> {
    const ended = this.#closing;
    this.#closing = true;
    if (!ended && flush && this.#link !== undefined && this.#kcp.waitSnd() > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, CLOSE_FLUSH_MS);
        if (this.#flushScheduled === false) this.#onFlush();
      });
      clearTimeout(timer);
      this.#drained = undefined;
    }
    const opened = this.#opened;
    this.#opened = undefined;
    opened?.reject(new Error("the KCP transport closed while opening"));
    // ACKs still waiting for the end of the turn go out now: the gate would otherwise retransmit until it gives up.
    if (this.#ackImmediate !== undefined && this.#link !== undefined) this.#kcp.flush();
    await this.#release();
  }

  /** Stops the timer and closes the socket, once. */
  #release(): Promise<void> {
    if (this.#released) return this.#released;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#ackImmediate !== undefined) clearImmediate(this.#ackImmediate);
    this.#ackImmediate = undefined;
    const link = this.#link;
    this.#link = undefined;
    return this.#released = link ? link.close().catch(() => {}) : Promise.resolve();
  }

  /** After input, output or a tick: a dead link, opening, draining, and when the clock must run next. */
  #afterIo(now: number): void {
    const kcp = this.#kcp;
    if (kcp.state === -1) {
      const error = new Error(
        `Cannot reach the gate over KCP: a segment went unacknowledged ${kcp.deadLink} times (dead link)`,
      );
      if (this.#drained) this.#drained();
      else this.fail(error);
      return;
    }
    const waiting = kcp.waitSnd();
    if (waiting === 0) {
      const opened = this.#opened;
      this.#opened = undefined;
      opened?.resolve();
      this.#drained?.();
    }
    if (waiting === 0 && !this.#needsFlush) return;
    const dueAt = nextUpdateAt(kcp, now);
    if (this.#timer !== undefined && this.#timerAt <= dueAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = dueAt;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, dueAt - now));
  }
}

/**
 * One connection of a pooled cluster link client: dials with a timeout, sends the Handshake first and waits for
 * its answer, then writes through a {@linkcode FrameWriter} and pairs responses with pending calls by seq. When the
 * socket drops it redials with exponential back-off (5 ms doubling to 1 s); after `dialRetryTimes` failed retries
 * it is `Down` (its queue dropped, its calls rejected) and keeps retrying every second until the pool closes.
 *
 * Frames queued while the connection is `Connecting` wait for it and go out after the handshake.
 *
 * Slightly longer than ~400 lines: dial, handshake, redial with back-off and the pending-call table are one state
 * machine over one socket.
 *
 * @module
 */

import { ClosedError, DueError, ErrorCode, errorMessage, TimeoutError } from "../errors.ts";
import { FeedResult, FrameReader } from "../frame_reader.ts";
import type { Peer } from "../link.ts";
import type { Logger } from "../logger.ts";
import { FrameWriter } from "./_writer.ts";
import {
  Code,
  encodeHandshake,
  FRAME_HEAD_BYTES,
  frameSeq,
  HeaderBit,
  HEARTBEAT_FRAME,
  nextSeq,
  responseCode,
  Route,
  ROUTE_NAMES,
  SIZE_BYTES,
} from "./frames.ts";

/** First back-off after a failed dial. */
const BACKOFF_MIN_MS = 5;
/** Longest back-off between dials. */
const BACKOFF_MAX_MS = 1000;

/** States of a {@linkcode ClientConn}. */
export const ConnState = {
  /** Dialling or handshaking; frames queue. */
  Connecting: 0,
  /** Handshake answered; frames flow. */
  Open: 1,
  /** Retries exhausted; not used until a background redial succeeds. */
  Down: 2,
  /** The pool closed it. */
  Closed: 3,
} as const;
/** One of the values of {@linkcode ConnState}. */
export type ConnState = typeof ConnState[keyof typeof ConnState];

/** Settings a connection takes from its pool. */
export interface ConnSettings {
  readonly addr: string;
  readonly hostname: string;
  readonly port: number;
  readonly self: Peer;
  readonly dialTimeoutMs: number;
  readonly dialRetryTimes: number;
  readonly handshakeTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly frameLimitBytes: number;
  readonly writeQueueBytes: number;
  readonly readBufferBytes: number;
  readonly log: Logger;
}

/** What a connection reports to its pool. */
export interface ConnOwner {
  /** Counts frames dropped (queue overflow, link lost or down). */
  dropped(frames: number): void;
  /** Counts a call that timed out. */
  timedOut(): void;
  /** Counts a response that matched no pending call. */
  late(): void;
  /** A connection changed state. */
  changed(): void;
}

/** Turns a response frame into a call's result, or throws the error it carries. */
export type ParseResponse<T> = (frame: Uint8Array, addr: string) => T;

interface Pending {
  route: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  parse: ParseResponse<unknown>;
  /** `Date.now()` past which the call times out (swept by {@linkcode ClientConn.expire}). */
  deadline: number;
}

/** The error a response with a non-OK code becomes. */
export function responseError(frame: Uint8Array, addr: string): DueError {
  const route = frame[5];
  const name = ROUTE_NAMES[route as Route] ?? `route ${route}`;
  const code = responseCode(frame);
  if (code === Code.NotFoundSession) {
    return new DueError(ErrorCode.NotFoundSession, `Cannot ${name} at ${addr}: session not found`, { addr });
  }
  if (code === Code.InternalError) {
    return new DueError(ErrorCode.Internal, `Cannot ${name} at ${addr}: the peer answered InternalError`, {
      addr,
    });
  }
  return new DueError(
    ErrorCode.InvalidPacket,
    `Cannot ${name} at ${addr}: malformed response (code ${code})`,
    {
      addr,
    },
  );
}

/** Parses a response that carries only a code: OK, or the error it names (the Handshake's and most calls'). */
export const parseOK: ParseResponse<void> = (frame, addr) => {
  if (responseCode(frame) !== Code.OK) throw responseError(frame, addr);
};

/** One pooled connection. */
export class ClientConn {
  state: ConnState = ConnState.Connecting;
  readonly writer: FrameWriter;
  readonly #settings: ConnSettings;
  readonly #owner: ConnOwner;
  readonly #index: number;
  readonly #pending = new Map<number, Pending>();
  readonly #abort = new AbortController();
  readonly #readBuf: Uint8Array;
  #seq = 1;
  #socket: Deno.TcpConn | undefined;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(settings: ConnSettings, owner: ConnOwner, index: number) {
    this.#settings = settings;
    this.#owner = owner;
    this.#index = index;
    this.#readBuf = new Uint8Array(settings.readBufferBytes);
    this.writer = new FrameWriter(settings.writeQueueBytes, (err) => {
      settings.log.debug("link write failed", { addr: settings.addr, conn: index, error: errorMessage(err) });
      this.#closeSocket();
    });
  }

  /** Starts dialling. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Queues a call built by `encode(seq)` and resolves with `parse(response)`.
   * Rejects with `TimeoutError` after `callTimeoutMs` (the pending entry is removed), `DueError` `queue_full` when
   * the write queue is full, `packet_too_large` above the frame limit, `unavailable` when the link drops.
   */
  call<T>(route: number, encode: (seq: number) => Uint8Array, parse: ParseResponse<T>): Promise<T> {
    if (this.state === ConnState.Closed) return Promise.reject(this.#closedError(route));
    const seq = this.#seq = nextSeq(this.#seq);
    let frame: Uint8Array;
    try {
      frame = encode(seq);
    } catch (err) {
      return Promise.reject(err);
    }
    const { addr, frameLimitBytes } = this.#settings;
    if (frame.length - SIZE_BYTES > frameLimitBytes) {
      const name = ROUTE_NAMES[route as Route];
      return Promise.reject(
        new DueError(
          ErrorCode.PacketTooLarge,
          `Cannot call ${name} at ${addr}: frame of ${frame.length} bytes is above the limit of ${frameLimitBytes}`,
          { addr },
        ),
      );
    }
    if (!this.writer.send(frame)) return Promise.reject(this.#queueFull(route));
    return this.#await(route, seq, parse);
  }

  /**
   * Queues a call of fixed size `bytes` written by `write(buf, off, seq)` straight into the write buffer (no frame
   * allocated), and resolves with `parse(response)`; rejects as {@linkcode call}.
   */
  callWith<T>(
    route: number,
    bytes: number,
    write: (buf: Uint8Array, off: number, seq: number) => number,
    parse: ParseResponse<T>,
  ): Promise<T> {
    if (this.state === ConnState.Closed) return Promise.reject(this.#closedError(route));
    const writer = this.writer;
    const off = writer.reserve(bytes);
    if (off < 0) return Promise.reject(this.#queueFull(route));
    const seq = this.#seq = nextSeq(this.#seq);
    write(writer.buffer, off, seq);
    writer.commit(bytes);
    return this.#await(route, seq, parse);
  }

  #await<T>(route: number, seq: number, parse: ParseResponse<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + this.#settings.callTimeoutMs;
      this.#pending.set(seq, {
        route,
        resolve: resolve as (value: unknown) => void,
        reject,
        parse,
        deadline,
      });
    });
  }

  #closedError(route: number): ClosedError {
    const addr = this.#settings.addr;
    return new ClosedError(`Cannot call ${ROUTE_NAMES[route as Route]} at ${addr}: link closed`, { addr });
  }

  #queueFull(route: number): DueError {
    this.#owner.dropped(1);
    const addr = this.#settings.addr;
    return new DueError(
      ErrorCode.QueueFull,
      `Cannot call ${ROUTE_NAMES[route as Route]} at ${addr}: write queue full`,
      {
        addr,
      },
    );
  }

  /** Queues a heartbeat when nothing was written since the last one (an open connection only). */
  heartbeat(): void {
    if (this.state !== ConnState.Open) return;
    if (!this.writer.takeActivity()) this.writer.sendQuiet(HEARTBEAT_FRAME);
  }

  /**
   * Rejects with `TimeoutError` (and forgets) every call whose deadline is before `now`. The pool calls it on a
   * timer a tenth of the call timeout apart: one timer per pool instead of one per call.
   */
  expire(now: number): void {
    if (this.#pending.size === 0) return;
    const { addr, callTimeoutMs, handshakeTimeoutMs } = this.#settings;
    for (const [seq, pending] of this.#pending) {
      if (pending.deadline > now) continue;
      this.#pending.delete(seq);
      this.#owner.timedOut();
      const name = ROUTE_NAMES[pending.route as Route] ?? `route ${pending.route}`;
      const ms = pending.route === Route.Handshake ? handshakeTimeoutMs : callTimeoutMs;
      pending.reject(new TimeoutError(`Cannot ${name} at ${addr}: no answer within ${ms} ms`, { addr }));
    }
  }

  /** Stops redialling, closes the socket, rejects what is pending, and waits for the loop to end. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    this.#closeSocket();
    if (this.#loop === undefined) {
      this.state = ConnState.Closed;
      this.#drop(
        new ClosedError(`Cannot reach ${this.#settings.addr}: link closed`, { addr: this.#settings.addr }),
      );
    }
    await this.#loop;
  }

  #closeSocket(): void {
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
  }

  async #run(): Promise<void> {
    const settings = this.#settings;
    const signal = this.#abort.signal;
    let failures = 0;
    let backoff = BACKOFF_MIN_MS;
    while (!signal.aborted) {
      let opened = false;
      let failure: unknown;
      try {
        const socket = this.#socket = await this.#dial();
        const reading = this.#read(socket);
        try {
          await this.#handshake(socket);
        } catch (err) {
          this.#closeSocket();
          await reading;
          throw err;
        }
        opened = true;
        failures = 0;
        backoff = BACKOFF_MIN_MS;
        this.state = ConnState.Open;
        this.writer.attach(socket);
        this.#owner.changed();
        await reading;
      } catch (err) {
        failure = err;
      }
      this.#socket = undefined;
      if (signal.aborted) break;
      if (opened) {
        settings.log.debug("link connection lost", { addr: settings.addr, conn: this.#index });
        this.#drop(
          new DueError(ErrorCode.Unavailable, `Cannot reach ${settings.addr}: link lost`, {
            addr: settings.addr,
          }),
        );
        this.state = ConnState.Connecting;
        this.#owner.changed();
      } else {
        failures++;
        if (failures > settings.dialRetryTimes && this.state !== ConnState.Down) {
          settings.log.debug("link connection down", {
            addr: settings.addr,
            conn: this.#index,
            attempts: failures,
            error: errorMessage(failure),
          });
          this.state = ConnState.Down;
          this.#drop(
            new DueError(ErrorCode.Unavailable, `Cannot reach ${settings.addr}: ${errorMessage(failure)}`, {
              addr: settings.addr,
              cause: failure,
            }),
          );
          this.#owner.changed();
        }
      }
      await this.#sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
    this.state = ConnState.Closed;
    this.#drop(new ClosedError(`Cannot reach ${settings.addr}: link closed`, { addr: settings.addr }));
  }

  /** Drops queued frames and rejects every pending call. */
  #drop(err: DueError): void {
    const dropped = this.writer.detach();
    if (dropped > 0) this.#owner.dropped(dropped);
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) call.reject(err);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#sleepTimer);
        this.#wake = undefined;
        resolve();
      };
      this.#sleepTimer = setTimeout(this.#wake, ms);
    });
  }

  async #dial(): Promise<Deno.TcpConn> {
    const { hostname, port, dialTimeoutMs, addr } = this.#settings;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), dialTimeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.#abort.signal]);
    try {
      const socket = await Deno.connect({ hostname, port, transport: "tcp", signal });
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      return socket;
    } catch (err) {
      if (timeout.signal.aborted) {
        throw new TimeoutError(`Cannot dial ${addr}: no connection within ${dialTimeoutMs} ms`, { addr });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshake(socket: Deno.TcpConn): Promise<void> {
    const { self, handshakeTimeoutMs } = this.#settings;
    const answered = new Promise<unknown>((resolve, reject) => {
      const deadline = Date.now() + handshakeTimeoutMs;
      this.#pending.set(1, { route: Route.Handshake, resolve, reject, parse: parseOK, deadline });
    });
    const frame = encodeHandshake(1, self.kind, self.id);
    try {
      let off = 0;
      while (off < frame.length) off += await socket.write(frame.subarray(off));
    } catch (err) {
      this.#pending.delete(1);
      throw err;
    }
    await answered;
  }

  async #read(socket: Deno.TcpConn): Promise<void> {
    const { frameLimitBytes, addr, log } = this.#settings;
    const reader = new FrameReader({ little: false, maxSize: frameLimitBytes }, this.#onFrame);
    const buf = this.#readBuf;
    try {
      while (true) {
        const n = await socket.read(buf);
        if (n === null) break;
        const result = reader.feed(buf.subarray(0, n));
        if (result === FeedResult.TooLarge) {
          log.warn("link closed: response above the frame limit", { addr, size: reader.lastSize });
        }
        if (result !== FeedResult.Ok) break;
      }
    } catch {
      // reset or closed: the run loop redials
    }
    reader.stop();
    try {
      socket.close();
    } catch {
      // already closed
    }
    // A handshake still waiting is answered by nobody now.
    const handshake = this.#pending.get(1);
    if (handshake !== undefined && handshake.route === Route.Handshake) {
      this.#pending.delete(1);
      handshake.reject(
        new DueError(ErrorCode.Unavailable, `Cannot handshake with ${addr}: link closed`, { addr }),
      );
    }
  }

  readonly #onFrame = (frame: Uint8Array): void => {
    if (frame.length < FRAME_HEAD_BYTES) {
      if (frame.length > SIZE_BYTES && (frame[4] & HeaderBit.Heartbeat) !== 0) return;
      this.#settings.log.warn("link closed: short frame from the acceptor", {
        addr: this.#settings.addr,
        length: frame.length,
      });
      this.#closeSocket();
      return;
    }
    const seq = frameSeq(frame);
    const pending = this.#pending.get(seq);
    if (pending === undefined || pending.route !== frame[5]) {
      this.#owner.late();
      return;
    }
    this.#pending.delete(seq);
    let value: unknown;
    try {
      value = pending.parse(frame, this.#settings.addr);
    } catch (err) {
      pending.reject(err);
      return;
    }
    pending.resolve(value);
  };
}

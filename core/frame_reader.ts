/**
 * A byte-stream framer for length-prefixed frames (`| size u32 | size bytes |`), used for client packets over TCP
 * and KCP and for cluster frames. It keeps its state across reads, so a frame split at any offset just works.
 *
 * A frame that arrives whole is handed on as a `subarray` of the chunk (zero copy): it is valid only during the
 * `onFrame` call, because the caller may reuse its read buffer. Only a frame split across chunks is copied into an
 * accumulator. The declared size is checked against `maxSize` before anything is allocated.
 *
 * @module
 */

import { readU32 } from "./packet.ts";

/** Called with each complete frame, size prefix included. The bytes are valid only during the call. */
export type FrameHandler = (frame: Uint8Array) => void;

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /** Byte order of the size prefix. */
  little: boolean;
  /** Largest `size` accepted; a larger declared size makes {@linkcode FrameReader.feed} fail. */
  maxSize: number;
}

/** What {@linkcode FrameReader.feed} returns. */
export const FeedResult = {
  /** Every complete frame was handed on; any rest is kept for the next chunk. */
  Ok: 0,
  /** A frame declared a size above `maxSize`: the stream is unusable, close it. */
  TooLarge: -1,
  /** `onFrame` asked to stop (it returned after calling {@linkcode FrameReader.stop}). */
  Stopped: -2,
} as const;
/** One of the values of {@linkcode FeedResult}. */
export type FeedResult = typeof FeedResult[keyof typeof FeedResult];

/**
 * Frames a byte stream.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frame_reader.ts";
 * const frames: number[] = [];
 * const reader = new FrameReader({ little: false, maxSize: 100 }, (f) => frames.push(f.length));
 * reader.feed(new Uint8Array([0, 0, 0, 1]));
 * reader.feed(new Uint8Array([0x80, 0, 0, 0, 0]));
 * console.assert(frames.join() === "5,4");
 * ```
 */
export class FrameReader {
  readonly #little: boolean;
  readonly #maxSize: number;
  readonly #onFrame: FrameHandler;
  /** Size prefix bytes of a frame whose prefix was split. */
  readonly #head = new Uint8Array(4);
  #headLen = 0;
  /** Accumulator of a frame whose body was split; `undefined` when none. */
  #acc: Uint8Array | undefined;
  #accLen = 0;
  #stopped = false;
  /** The declared size that made the last feed fail. */
  lastSize = 0;

  /**
   * @param options byte order and size limit
   * @param onFrame called with each complete frame
   */
  constructor(options: FrameReaderOptions, onFrame: FrameHandler) {
    this.#little = options.little;
    this.#maxSize = options.maxSize;
    this.#onFrame = onFrame;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#acc ? this.#accLen : this.#headLen;
  }

  /** Makes the current and later {@linkcode feed} calls stop handing frames on. */
  stop(): void {
    this.#stopped = true;
  }

  /** Feeds the next chunk of the stream. */
  feed(chunk: Uint8Array): FeedResult {
    if (this.#stopped) return FeedResult.Stopped;
    const end = chunk.length;
    let off = 0;
    if (this.#headLen !== 0 || this.#acc) {
      off = this.#resume(chunk);
      if (off < 0) return off as FeedResult;
      if (this.#stopped) return FeedResult.Stopped;
    }
    const little = this.#little;
    while (end - off >= 4) {
      const size = readU32(chunk, off, little);
      if (size > this.#maxSize) {
        this.lastSize = size;
        return FeedResult.TooLarge;
      }
      const total = size + 4;
      if (end - off < total) break;
      this.#onFrame(chunk.subarray(off, off + total));
      if (this.#stopped) return FeedResult.Stopped;
      off += total;
    }
    if (off < end) this.#keep(chunk, off, end);
    return FeedResult.Ok;
  }

  /** Completes a split frame from the start of `chunk`; returns the offset after it, or a negative result. */
  #resume(chunk: Uint8Array): number {
    let off = 0;
    if (!this.#acc) {
      const take = Math.min(4 - this.#headLen, chunk.length);
      this.#head.set(chunk.subarray(0, take), this.#headLen);
      this.#headLen += take;
      off = take;
      if (this.#headLen < 4) return chunk.length;
      const size = readU32(this.#head, 0, this.#little);
      if (size > this.#maxSize) {
        this.lastSize = size;
        return FeedResult.TooLarge;
      }
      this.#acc = new Uint8Array(size + 4);
      this.#acc.set(this.#head);
      this.#accLen = 4;
      this.#headLen = 0;
    }
    const acc = this.#acc;
    const take = Math.min(acc.length - this.#accLen, chunk.length - off);
    acc.set(chunk.subarray(off, off + take), this.#accLen);
    this.#accLen += take;
    off += take;
    if (this.#accLen === acc.length) {
      this.#acc = undefined;
      this.#accLen = 0;
      this.#onFrame(acc);
    }
    return off;
  }

  #keep(chunk: Uint8Array, off: number, end: number): void {
    const rest = end - off;
    if (rest < 4) {
      this.#head.set(chunk.subarray(off, end));
      this.#headLen = rest;
      return;
    }
    const size = readU32(chunk, off, this.#little);
    this.#acc = new Uint8Array(size + 4);
    this.#acc.set(chunk.subarray(off, end));
    this.#accLen = rest;
  }
}

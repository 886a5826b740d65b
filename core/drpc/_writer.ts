/**
 * The write side of one cluster link connection: frames are written straight into one growing buffer (no chunk
 * per frame), flushed once per tick with one socket write in flight; while it is in flight, new frames fill a
 * second buffer. Pending bytes are bounded; {@linkcode FrameWriter.reserve} returns -1 on overflow and the caller
 * applies its policy (reject a call, count a dropped one-way frame).
 *
 * @module
 */

/** Initial capacity of a write buffer. */
const INITIAL_BYTES = 16 * 1024;
/** Pending bytes past which a flush starts at once instead of at the end of the tick. */
const FLUSH_BYTES = 64 * 1024;
/** A buffer that grew past this is not kept for reuse once written, so memory shrinks after a burst. */
const KEEP_BYTES = 1024 * 1024;

/** Where a {@linkcode FrameWriter} writes. */
export interface WriteTarget {
  write(data: Uint8Array): Promise<number>;
}

/** Coalesces frames per tick into one socket write. */
export class FrameWriter {
  #buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  #len = 0;
  #frames = 0;
  #spare: Uint8Array | undefined;
  #inflight = 0;
  #writing = false;
  #scheduled = false;
  #target: WriteTarget | undefined;
  readonly #maxBytes: number;
  readonly #onError: (err: unknown) => void;
  readonly #onTick = (): void => {
    this.#scheduled = false;
    this.#flush();
  };
  /** Whether a frame was committed since the last {@linkcode FrameWriter.takeActivity}. */
  #active = false;

  /**
   * @param maxBytes bound on bytes pending (queued plus in flight)
   * @param onError called once per failed socket write; the owner closes the connection
   */
  constructor(maxBytes: number, onError: (err: unknown) => void) {
    this.#maxBytes = maxBytes;
    this.#onError = onError;
  }

  /** The buffer to write a reserved frame into; read it after {@linkcode reserve}, which may replace it. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Frames queued and not yet handed to the socket. */
  get queuedFrames(): number {
    return this.#frames;
  }

  /** Bytes queued or in flight. */
  get pendingBytes(): number {
    return this.#len + this.#inflight;
  }

  /** Makes room for `bytes` more; returns the offset to write at, or -1 when the queue would overflow. */
  reserve(bytes: number): number {
    const len = this.#len;
    if (len + this.#inflight + bytes > this.#maxBytes) return -1;
    if (len + bytes > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < len + bytes) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, len));
      this.#buf = grown;
    }
    return len;
  }

  /** Queues the `bytes` just written at the offset {@linkcode reserve} returned. */
  commit(bytes: number): void {
    this.#active = true;
    this.#queue(bytes);
  }

  /** Queues a whole frame (copied) that does not count as activity (a heartbeat). Returns false on overflow. */
  sendQuiet(frame: Uint8Array): boolean {
    const off = this.reserve(frame.length);
    if (off < 0) return false;
    this.#buf.set(frame, off);
    this.#queue(frame.length);
    return true;
  }

  #queue(bytes: number): void {
    this.#len += bytes;
    this.#frames++;
    if (this.#target === undefined || this.#writing) return;
    if (this.#len >= FLUSH_BYTES) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
  }

  /** Queues a whole frame (copied). Returns false on overflow. */
  send(frame: Uint8Array): boolean {
    const off = this.reserve(frame.length);
    if (off < 0) return false;
    this.#buf.set(frame, off);
    this.commit(frame.length);
    return true;
  }

  /** Starts writing to `target`, beginning with what was queued before. */
  attach(target: WriteTarget): void {
    this.#target = target;
    if (this.#len > 0 && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
  }

  /** Stops writing and drops what is queued; returns how many frames were dropped. */
  detach(): number {
    const dropped = this.#frames;
    this.#target = undefined;
    this.#len = 0;
    this.#frames = 0;
    return dropped;
  }

  /**
   * Whether a frame other than a heartbeat was queued since the last call; resets the flag (heartbeats skip busy
   * connections).
   */
  takeActivity(): boolean {
    const active = this.#active;
    this.#active = false;
    return active;
  }

  #flush(): void {
    const target = this.#target;
    if (this.#writing || this.#len === 0 || target === undefined) return;
    const buf = this.#buf;
    const len = this.#len;
    this.#buf = this.#spare ?? new Uint8Array(INITIAL_BYTES);
    this.#spare = undefined;
    this.#inflight = len;
    this.#len = 0;
    this.#frames = 0;
    this.#writing = true;
    this.#write(target, buf, len);
  }

  async #write(target: WriteTarget, buf: Uint8Array, len: number): Promise<void> {
    let failed: unknown;
    try {
      let off = 0;
      while (off < len) off += await target.write(buf.subarray(off, len));
    } catch (err) {
      failed = err ?? new Error("write failed");
    }
    this.#writing = false;
    this.#inflight = 0;
    if (failed !== undefined) {
      if (this.#target === target) {
        this.detach();
        this.#onError(failed);
      }
    } else if (buf.length <= KEEP_BYTES) this.#spare = buf;
    if (this.#len > 0) this.#flush();
  }
}

/**
 * Write coalescing for stream transports (private to `client/`): packets written in one tick go out in one write,
 * one write is in flight at a time, and the queue is bounded in bytes.
 *
 * @module
 */

/** Bytes queued at which a flush starts at once instead of at the end of the tick. */
const FLUSH_BYTES = 64 * 1024;

/** Writes all of `bytes`; rejects when the socket fails. */
export type Sink = (bytes: Uint8Array) => Promise<void>;

/** Queues chunks and flushes them through a {@linkcode Sink}, one write in flight. */
export class StreamWriter {
  readonly #sink: Sink;
  readonly #onError: (error: Error) => void;
  readonly #maxQueuedBytes: number;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;
  #writing = false;
  #failed = false;
  /** Resolvers waiting for the queue to drain. */
  #drainWaiters: (() => void)[] = [];
  /** Bound once, so a tick schedules no new closure. */
  readonly #onTick = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  constructor(sink: Sink, onError: (error: Error) => void, maxQueuedBytes: number) {
    this.#sink = sink;
    this.#onError = onError;
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** Bytes queued or being written. */
  get pending(): number {
    return this.#queued;
  }

  /** Queues `bytes`; `false` when the queue is full or the sink failed. */
  write(bytes: Uint8Array): boolean {
    if (this.#failed || this.#queued + bytes.length > this.#maxQueuedBytes) return false;
    this.#chunks.push(bytes);
    this.#queued += bytes.length;
    if (this.#writing) return true;
    if (this.#queued >= FLUSH_BYTES) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
    return true;
  }

  /** Resolves once nothing is queued or in flight, or after `timeoutMs`, whichever comes first. */
  drain(timeoutMs: number): Promise<void> {
    if (this.#queued === 0 || this.#failed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.#drainWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /** Drops everything queued; later writes return `false`. */
  fail(): void {
    this.#failed = true;
    this.#chunks = [];
    this.#queued = 0;
    this.#wakeDrainWaiters();
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#failed) return;
    this.#writing = true;
    try {
      while (this.#chunks.length !== 0 && !this.#failed) {
        const chunks = this.#chunks;
        this.#chunks = [];
        const bytes = chunks.length === 1 ? chunks[0] : concat(chunks);
        await this.#sink(bytes);
        if (this.#failed) break;
        this.#queued -= bytes.length;
      }
    } catch (err) {
      if (!this.#failed) {
        this.fail();
        this.#onError(err instanceof Error ? err : new Error(String(err)));
      }
    } finally {
      this.#writing = false;
    }
    if (this.#queued === 0) this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    for (const wake of this.#drainWaiters.splice(0)) wake();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let off = 0;
  for (const chunk of chunks) {
    out.set(chunk, off);
    off += chunk.length;
  }
  return out;
}

/**
 * Raw TCP helpers of the benchmarks' baselines and load generator: the smallest coalescing writer and a read loop,
 * both straight on a `Deno.Conn` with no framework in between.
 *
 * @module
 */

/**
 * The smallest coalescing writer: what is sent in one tick is copied into one buffer and written at once, one
 * write in flight. After a failed write the connection is dead: later sends are dropped.
 */
export class RawWriter {
  readonly #conn: Deno.Conn;
  #chunks: Uint8Array[] = [];
  #writing = false;
  #scheduled = false;
  #failed = false;
  readonly #tick = () => {
    this.#scheduled = false;
    this.#flush();
  };

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Queues `bytes`, which must not change until written. */
  send(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#chunks.push(bytes);
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      queueMicrotask(this.#tick);
    }
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#chunks.length === 0) return;
    this.#writing = true;
    while (this.#chunks.length > 0) {
      const data = concat(this.#chunks);
      this.#chunks = [];
      let off = 0;
      try {
        while (off < data.length) off += await this.#conn.write(data.subarray(off));
      } catch {
        this.#failed = true;
        this.#chunks = [];
      }
    }
    this.#writing = false;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const data = new Uint8Array(total);
  let off = 0;
  for (const chunk of chunks) {
    data.set(chunk, off);
    off += chunk.length;
  }
  return data;
}

/** Feeds what `conn` reads to `onData` (valid during the call only) until it ends or fails. */
export async function readLoop(
  conn: Deno.Conn,
  onData: (bytes: Uint8Array) => void,
  bufferBytes = 64 * 1024,
): Promise<void> {
  const buf = new Uint8Array(bufferBytes);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      onData(buf.subarray(0, n));
    }
  } catch {
    // closed or reset
  }
}

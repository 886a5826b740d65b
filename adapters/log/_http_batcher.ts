/**
 * Private to `adapters/log/`: the bounded queue, batching and retry shared by the cloud log sinks.
 *
 * Records are queued (at most `maxQueue`; past it the oldest is dropped and counted), sent in batches of up to
 * `batchSize` when a batch is full or every `flushIntervalMs`, one request at a time so order is kept. A batch
 * that fails with a network error, a timeout, HTTP 429 or 5xx is retried `maxRetries` times with a doubling
 * pause; then, or at once for other 4xx answers, it is dropped, counted and reported to `onError`.
 *
 * @module
 */
import type { LogRecord, LogSink } from "../../core/logger.ts";

/** Default records per request. */
export const DEFAULT_LOG_BATCH_SIZE = 256;
/** Default queue bound, in records. */
export const DEFAULT_LOG_MAX_QUEUE = 10_000;
/** Default interval between two sends of a partial batch. */
export const DEFAULT_LOG_FLUSH_INTERVAL_MS = 1_000;
/** Default retries of a failed batch. */
export const DEFAULT_LOG_MAX_RETRIES = 3;
/** Default first pause before a retry (doubled each time). */
export const DEFAULT_LOG_RETRY_DELAY_MS = 200;
/** Default timeout of one request. */
export const DEFAULT_LOG_TIMEOUT_MS = 5_000;

/** Queue, batch and retry options of the cloud log sinks. */
export interface BatchOptions {
  /** Records per request. @default 256 */
  batchSize?: number;
  /** Most records waiting; past it the oldest are dropped. @default 10000 */
  maxQueue?: number;
  /** Longest wait before a partial batch is sent, in milliseconds. @default 1000 */
  flushIntervalMs?: number;
  /** Retries of a failed request. @default 3 */
  maxRetries?: number;
  /** First pause before a retry, in milliseconds (doubled each time). @default 200 */
  retryDelayMs?: number;
  /** Timeout of one request, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** Told about every dropped batch. A sink cannot log its own failures. @default a line on stderr */
  onError?: (err: Error) => void;
}

/** What the sink counted. */
export interface SinkStats {
  /** Records accepted by the server. */
  sent: number;
  /** Records dropped because the queue was full. */
  dropped: number;
  /** Records dropped because their request failed for good. */
  failed: number;
}

/** A cloud log sink: a {@linkcode LogSink} that can be flushed and reports what it counted. */
export interface CloudLogSink extends LogSink {
  /** Sends every queued record now. */
  flush(): Promise<void>;
  /** Sends what is queued and stops. */
  close(): Promise<void>;
  /** Records sent, dropped (queue full) and failed (request failed for good). */
  readonly stats: SinkStats;
}

/** One HTTP request, built per batch. */
export interface PreparedRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A failure that is not worth retrying (4xx). */
class PermanentError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function defaultOnError(err: Error): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`log sink: ${err.message}\n`));
  } catch {
    // nowhere left to report
  }
}

/** Throws unless every value of `required` is a non-empty string; `what` names the sink. */
export function checkRequiredStrings(what: string, required: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(required)) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(
        `Cannot create ${what} as '${name}' must be a non-empty string: current value is ${value}`,
      );
    }
  }
}

/** A {@linkcode CloudLogSink} that queues records and posts each batch as `prepare` builds the request. */
export function createCloudLogSink(
  what: string,
  options: BatchOptions,
  prepare: (records: LogRecord[]) => PreparedRequest | Promise<PreparedRequest>,
): CloudLogSink {
  const batcher = new HttpBatcher(what, options, prepare);
  return {
    write: (record: LogRecord) => batcher.push(record),
    flush: () => batcher.flush(),
    close: () => batcher.close(),
    get stats() {
      return batcher.stats;
    },
  };
}

/** The queue of a cloud log sink. */
class HttpBatcher {
  readonly stats: SinkStats = { sent: 0, dropped: 0, failed: 0 };
  #queue: LogRecord[] = [];
  #sending: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  #options: Required<BatchOptions>;
  #prepare: (records: LogRecord[]) => PreparedRequest | Promise<PreparedRequest>;
  #what: string;

  constructor(
    what: string,
    options: BatchOptions,
    prepare: (records: LogRecord[]) => PreparedRequest | Promise<PreparedRequest>,
  ) {
    const {
      batchSize = DEFAULT_LOG_BATCH_SIZE,
      maxQueue = DEFAULT_LOG_MAX_QUEUE,
      flushIntervalMs = DEFAULT_LOG_FLUSH_INTERVAL_MS,
      maxRetries = DEFAULT_LOG_MAX_RETRIES,
      retryDelayMs = DEFAULT_LOG_RETRY_DELAY_MS,
      timeoutMs = DEFAULT_LOG_TIMEOUT_MS,
      onError = defaultOnError,
    } = options;
    const ints = { batchSize, maxQueue, maxRetries } as const;
    for (const [name, value] of Object.entries(ints)) {
      if (!Number.isInteger(value) || value < (name === "maxRetries" ? 0 : 1)) {
        throw new RangeError(
          `Cannot create ${what} as '${name}' must be an integer >= ${
            name === "maxRetries" ? 0 : 1
          }: current value is ${value}`,
        );
      }
    }
    for (const [name, value] of Object.entries({ flushIntervalMs, retryDelayMs, timeoutMs })) {
      if (!(value > 0) || !Number.isFinite(value)) {
        throw new RangeError(
          `Cannot create ${what} as '${name}' must be a finite number > 0: current value is ${value}`,
        );
      }
    }
    this.#what = what;
    this.#options = { batchSize, maxQueue, flushIntervalMs, maxRetries, retryDelayMs, timeoutMs, onError };
    this.#prepare = prepare;
    this.#timer = setInterval(() => void this.flush(), flushIntervalMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Queues a record; never throws. */
  push(record: LogRecord): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#queue.shift();
      this.stats.dropped++;
    }
    this.#queue.push(record);
    if (this.#queue.length >= this.#options.batchSize && !this.#sending) void this.flush();
  }

  /** Sends everything queued; resolves when the queue is empty or every batch failed for good. */
  flush(): Promise<void> {
    this.#sending ??= this.#drain().finally(() => (this.#sending = undefined));
    return this.#sending;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.batchSize);
      try {
        await this.#sendWithRetry(batch);
        this.stats.sent += batch.length;
      } catch (err) {
        this.stats.failed += batch.length;
        this.#options.onError(
          new Error(`${this.#what} dropped ${batch.length} records: ${(err as Error).message}`, {
            cause: err,
          }),
        );
      }
    }
  }

  async #sendWithRetry(batch: LogRecord[]): Promise<void> {
    const { maxRetries, retryDelayMs } = this.#options;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#send(batch);
      } catch (err) {
        if (err instanceof PermanentError || attempt >= maxRetries) throw err;
        await sleep(retryDelayMs * 2 ** attempt);
      }
    }
  }

  async #send(batch: LogRecord[]): Promise<void> {
    const { url, headers, body } = await this.#prepare(batch);
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    const text = await response.text();
    if (response.ok) return;
    const message = `HTTP ${response.status} from ${new URL(url).host}: ${text.slice(0, 200)}`;
    if (response.status === 429 || response.status >= 500) throw new Error(message);
    throw new PermanentError(message);
  }

  /** Sends what is queued, then stops the timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }
}

/** The attributes of a record as flat string pairs (non-strings as JSON). */
export function recordFields(record: LogRecord): [string, string][] {
  const fields: [string, string][] = [["level", record.level], ["msg", record.msg]];
  for (const [key, value] of Object.entries(record.attrs)) {
    let text: string;
    if (typeof value === "string") text = value;
    else if (value instanceof Error) text = value.message;
    else {
      try {
        text = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v) ?? String(value);
      } catch {
        text = String(value);
      }
    }
    fields.push([key, text]);
  }
  return fields;
}

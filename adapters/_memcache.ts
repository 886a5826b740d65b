/**
 * Private helper shared by the memcached backends of the cache and the lock: a small promise API over the
 * memcached binary protocol, with the CAS tokens that memjs' own methods leave out.
 *
 * memjs (1.3) keeps the sockets, hashes keys to servers, retries and times requests out; its high-level
 * methods cannot send or return a CAS value and misread 64-bit counters, so this file builds binary-protocol
 * requests with memjs' exported `Utils.makeRequestBuffer`, writes the CAS into the header itself and sends them
 * through memjs' `perform`. Only the memcached backends import this file.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import memjs from "memjs";
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";

/** Default memcached address. */
export const DEFAULT_MEMCACHE_ADDRS: readonly string[] = ["127.0.0.1:11211"];
/** Default time allowed for one request (memjs retries it once more). */
export const DEFAULT_MEMCACHE_TIMEOUT_MS = 1_000;
/** Longest relative expiration memcached accepts; longer ones must be absolute Unix times. */
const MAX_RELATIVE_EXPIRATION_S = 30 * 24 * 3600;

/** Connection options common to the memcached backends (due's `*.memcache` `addrs`). */
export interface MemcacheConnectionOptions {
  /** `host:port` addresses; keys are spread over them by hash. @default ["127.0.0.1:11211"] */
  addrs?: readonly string[];
  /** SASL user name. */
  username?: string;
  /** SASL password. */
  password?: string;
  /** Time allowed for one request, in milliseconds. @default 1000 */
  timeoutMs?: number;
}

/** Binary protocol status codes used here. */
const Status = { ok: 0, notFound: 1, exists: 2, notStored: 5, nonNumeric: 6 } as const;
/** Binary protocol opcodes used here. */
const Op = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  delete: 0x04,
  incr: 0x05,
  decr: 0x06,
  version: 0x0b,
} as const;

interface MemjsResponse {
  header: { status: number; cas: Buffer };
  val: Buffer;
  extras: Buffer;
}
interface MemjsServer {
  host: string;
  port: number;
  onResponse(seq: number, fn: (response: MemjsResponse) => void): void;
  onError(seq: number, fn: (err: Error | string) => void): void;
  write(request: Buffer): void;
}
interface MemjsClient {
  seq: number;
  servers: MemjsServer[];
  incrSeq(): void;
  perform(
    key: string,
    request: Buffer,
    seq: number,
    cb: (err: Error | null, response: MemjsResponse | null) => void,
  ): void;
  close(): void;
}
interface Memjs {
  Client: { create(servers: string, options: Record<string, unknown>): MemjsClient };
  Utils: {
    makeRequestBuffer(
      op: number,
      key: string,
      extras: Buffer | string,
      value: Buffer | string,
      seq: number,
    ): Buffer;
  };
}
const mj = memjs as unknown as Memjs;

/** A stored item with its CAS token. */
export interface MemcacheItem {
  value: Buffer;
  cas: Buffer;
}

/** Seconds for memcached's expiration field: 0 = never; past 30 days an absolute Unix time. */
function expirationSeconds(ttlMs: number): number {
  if (!(ttlMs > 0)) return 0;
  const seconds = Math.ceil(ttlMs / 1000);
  return seconds > MAX_RELATIVE_EXPIRATION_S ? Math.floor(Date.now() / 1000) + seconds : seconds;
}

/** The 8 extras bytes of a set or add: flags 0, then the expiration. */
function storeExtras(ttlMs: number): Buffer {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(expirationSeconds(ttlMs), 4);
  return extras;
}

/** A thin promise client; every failure to reach a server is a {@linkcode DueError} `unavailable`. */
export class MemcacheClient {
  #client: MemjsClient;
  #addr: string;
  #what: string;

  constructor(options: MemcacheConnectionOptions, what: string, log: Logger) {
    const { addrs = DEFAULT_MEMCACHE_ADDRS, username, password, timeoutMs = DEFAULT_MEMCACHE_TIMEOUT_MS } =
      options;
    this.#addr = addrs.join(",");
    this.#what = what;
    this.#client = mj.Client.create(addrs.join(","), {
      username,
      password,
      timeout: timeoutMs / 1000,
      retries: 2,
      retry_delay: 0.05,
      expires: 0,
      logger: { log: (message: string) => log.debug("memjs", { message }) },
    });
  }

  /** Asks every server for its version; throws `unavailable` naming the first that does not answer. */
  async ping(): Promise<void> {
    for (const server of this.#client.servers) {
      const addr = `${server.host}:${server.port}`;
      try {
        const response = await new Promise<MemjsResponse>((resolve, reject) => {
          this.#client.incrSeq();
          const seq = this.#client.seq;
          server.onResponse(seq, resolve);
          server.onError(seq, (err) => reject(typeof err === "string" ? new Error(err) : err));
          server.write(mj.Utils.makeRequestBuffer(Op.version, "", "", "", seq));
        });
        if (response.header.status !== Status.ok) throw new Error(`status ${response.header.status}`);
      } catch (err) {
        throw new DueError(
          ErrorCode.Unavailable,
          `Cannot connect ${this.#what} to memcached at ${addr}: ${errorMessage(err)}`,
          { addr, cause: err },
        );
      }
    }
  }

  #send(
    op: number,
    key: string,
    extras: Buffer | string,
    value: Buffer | string,
    cas?: Buffer,
  ): Promise<MemjsResponse> {
    this.#client.incrSeq();
    const seq = this.#client.seq;
    const request = mj.Utils.makeRequestBuffer(op, key, extras, value, seq);
    if (cas) cas.copy(request, 16);
    return new Promise((resolve, reject) => {
      this.#client.perform(key, request, seq, (err, response) => {
        if (err || !response) {
          reject(
            new DueError(
              ErrorCode.Unavailable,
              `Cannot reach memcached at ${this.#addr} for ${this.#what}: ${
                errorMessage(err ?? "no response")
              }`,
              { addr: this.#addr, cause: err },
            ),
          );
        } else {
          resolve(response);
        }
      });
    });
  }

  #unexpected(action: string, status: number): DueError {
    return new DueError(
      ErrorCode.Unavailable,
      `Cannot ${action} on memcached at ${this.#addr}: status ${status}`,
      { addr: this.#addr },
    );
  }

  /** The item, or `undefined` when missing. */
  async get(key: string): Promise<MemcacheItem | undefined> {
    const response = await this.#send(Op.get, key, "", "");
    if (response.header.status === Status.notFound) return undefined;
    if (response.header.status !== Status.ok) throw this.#unexpected(`get "${key}"`, response.header.status);
    return { value: Buffer.from(response.val), cas: Buffer.from(response.header.cas) };
  }

  /**
   * Stores `value`. With `cas`, only if the item is unchanged since it was read; returns `false` when it was
   * changed or deleted meanwhile.
   */
  async set(key: string, value: string | Buffer, ttlMs: number, cas?: Buffer): Promise<boolean> {
    const response = await this.#send(Op.set, key, storeExtras(ttlMs), value, cas);
    const { status } = response.header;
    if (status === Status.ok) return true;
    if (cas && (status === Status.exists || status === Status.notFound)) return false;
    throw this.#unexpected(`set "${key}"`, status);
  }

  /** Stores `value` only if `key` is missing; `false` when it exists. */
  async add(key: string, value: string | Buffer, ttlMs: number): Promise<boolean> {
    const response = await this.#send(Op.add, key, storeExtras(ttlMs), value);
    const { status } = response.header;
    if (status === Status.ok) return true;
    if (status === Status.exists || status === Status.notStored) return false;
    throw this.#unexpected(`add "${key}"`, status);
  }

  /** Deletes `key` (only if unchanged, with `cas`); `false` when missing or changed. */
  async delete(key: string, cas?: Buffer): Promise<boolean> {
    const response = await this.#send(Op.delete, key, "", "", cas);
    const { status } = response.header;
    if (status === Status.ok) return true;
    if (status === Status.notFound || status === Status.exists) return false;
    throw this.#unexpected(`delete "${key}"`, status);
  }

  /**
   * Adds `delta` (may be negative) to a counter and returns the new value. A missing counter starts at
   * `max(delta, 0)`. memcached counters are unsigned 64-bit: a decrement stops at 0.
   *
   * @throws {TypeError} when the stored value is not a number
   */
  async incr(key: string, delta: number, ttlMs: number): Promise<number> {
    const extras = Buffer.alloc(20);
    extras.writeBigUInt64BE(BigInt(Math.abs(delta)), 0);
    extras.writeBigUInt64BE(BigInt(Math.max(delta, 0)), 8);
    extras.writeUInt32BE(expirationSeconds(ttlMs), 16);
    const response = await this.#send(delta < 0 ? Op.decr : Op.incr, key, extras, "");
    const { status } = response.header;
    if (status === Status.nonNumeric) {
      throw new TypeError(`Cannot increment "${key}" as its value is not an integer`);
    }
    if (status !== Status.ok) throw this.#unexpected(`increment "${key}"`, status);
    return Number(response.val.readBigUInt64BE(0));
  }

  /** Closes every socket. */
  close(): void {
    this.#client.close();
  }
}

/**
 * Creates a {@linkcode MemcacheClient} and asks every server for its version; closes it again and throws
 * `unavailable` naming the first server that does not answer.
 */
export async function connectMemcache(
  options: MemcacheConnectionOptions,
  what: string,
  log: Logger,
): Promise<MemcacheClient> {
  const client = new MemcacheClient(options, what, log);
  try {
    await client.ping();
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

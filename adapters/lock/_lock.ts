/**
 * Private to `adapters/lock/`: the acquire loop, the renewal timer and the release every backend shares, on top
 * of a three-operation store (try, renew, release), each a compare on the holder's token.
 *
 * @module
 */
import { ClosedError, errorMessage, TimeoutError } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { checkPrefix } from "../_options.ts";
import type { AcquireOptions, Lock, LockMaker } from "./types.ts";

/** Default key prefix, as due's. */
export const DEFAULT_LOCK_PREFIX = "due:lock";
/** Default life of a held lock between renewals, as due's (3 s). */
export const DEFAULT_LOCK_EXPIRATION_MS = 3_000;
/** Default pause between two acquire attempts, as due's (20 ms). */
export const DEFAULT_LOCK_ACQUIRE_INTERVAL_MS = 20;
/** Default retry limit, as due's: 0 = no limit other than `acquireTimeoutMs`. */
export const DEFAULT_LOCK_ACQUIRE_MAX_RETRIES = 0;
/**
 * Default overall limit of one `acquire` (ours; due waits for ever when `acquireMaxRetries` is 0): 30 s, so a
 * forgotten lock shows up as an error instead of a hung request.
 */
export const DEFAULT_LOCK_ACQUIRE_TIMEOUT_MS = 30_000;

/** Options every lock backend takes (due's `lock.*` keys plus `acquireTimeoutMs`). */
export interface LockOptions {
  /** Key prefix: lock `n` is stored as `<prefix>:n`. @default "due:lock" */
  prefix?: string;
  /** Life of a held lock; renewed every third of it while held. @default 3000 */
  expirationMs?: number;
  /** Pause between two acquire attempts. @default 20 */
  acquireIntervalMs?: number;
  /** Retries after the first attempt before `acquire` gives up; 0 = until `acquireTimeoutMs`. @default 0 */
  acquireMaxRetries?: number;
  /** Longest time one `acquire` waits, in milliseconds. @default 30000 */
  acquireTimeoutMs?: number;
  /** Where lost locks and renewal trouble are logged. @default a console logger */
  logger?: Logger;
}

/** The store a backend provides; `key` is already prefixed, `token` identifies one holding. */
export interface LockStore {
  /** Sets key = token with `expirationMs` if the key is free. */
  tryAcquire(key: string, token: string, expirationMs: number): Promise<boolean>;
  /** Extends the expiration if key = token; `false` when the holding is lost. */
  renew(key: string, token: string, expirationMs: number): Promise<boolean>;
  /** Deletes the key if key = token. */
  release(key: string, token: string): Promise<boolean>;
  close(): Promise<void>;
}

type Settings = Required<Omit<LockOptions, "logger">> & { logger: Logger };

/** Validates the common options; `what` names the backend ("redis lock"). */
export function validateLockOptions(options: LockOptions, what: string, logger: Logger): Settings {
  const {
    prefix = DEFAULT_LOCK_PREFIX,
    expirationMs = DEFAULT_LOCK_EXPIRATION_MS,
    acquireIntervalMs = DEFAULT_LOCK_ACQUIRE_INTERVAL_MS,
    acquireMaxRetries = DEFAULT_LOCK_ACQUIRE_MAX_RETRIES,
    acquireTimeoutMs = DEFAULT_LOCK_ACQUIRE_TIMEOUT_MS,
  } = options;
  checkPrefix(prefix, what);
  if (!Number.isFinite(expirationMs) || expirationMs < 30) {
    throw new RangeError(
      `Cannot create ${what} as 'expirationMs' must be >= 30: current value is ${expirationMs}`,
    );
  }
  if (!Number.isFinite(acquireIntervalMs) || acquireIntervalMs <= 0) {
    throw new RangeError(
      `Cannot create ${what} as 'acquireIntervalMs' must be > 0: current value is ${acquireIntervalMs}`,
    );
  }
  if (!Number.isInteger(acquireMaxRetries) || acquireMaxRetries < 0) {
    throw new RangeError(
      `Cannot create ${what} as 'acquireMaxRetries' must be an integer >= 0: current value is ${acquireMaxRetries}`,
    );
  }
  if (!Number.isFinite(acquireTimeoutMs) || acquireTimeoutMs <= 0) {
    throw new RangeError(
      `Cannot create ${what} as 'acquireTimeoutMs' must be a finite number > 0: current value is ${acquireTimeoutMs}`,
    );
  }
  return { prefix, expirationMs, acquireIntervalMs, acquireMaxRetries, acquireTimeoutMs, logger };
}

/** Waits `ms`, or rejects with the signal's reason. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The acquire loop shared by the concurrent `acquire` calls of one lock object. */
interface SharedAcquire {
  /** Settles when the loop took the lock or gave up. */
  done: Promise<void>;
  /** Aborted when the last waiting caller's signal aborts. */
  stop: AbortController;
  /** Callers still waiting on `done`. */
  waiters: number;
}

class StoreLock implements Lock {
  readonly name: string;
  #key: string;
  #store: LockStore;
  #settings: Settings;
  #what: string;
  #isClosed: () => boolean;
  #heldSet: Set<StoreLock>;
  #token: string | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #lastRenewed = 0;
  #acquiring: SharedAcquire | undefined;

  constructor(
    name: string,
    store: LockStore,
    settings: Settings,
    what: string,
    isClosed: () => boolean,
    heldSet: Set<StoreLock>,
  ) {
    this.name = name;
    this.#heldSet = heldSet;
    this.#key = settings.prefix === "" ? name : `${settings.prefix}:${name}`;
    this.#store = store;
    this.#settings = settings;
    this.#what = what;
    this.#isClosed = isClosed;
  }

  get held(): boolean {
    return this.#token !== undefined;
  }

  #setToken(token: string | undefined): void {
    this.#token = token;
    if (token === undefined) this.#heldSet.delete(this);
    else this.#heldSet.add(this);
  }

  #checkOpen(action: string): void {
    if (this.#isClosed()) {
      throw new ClosedError(`Cannot ${action} lock "${this.name}" as the ${this.#what} is closed`);
    }
  }

  async #attempt(): Promise<boolean> {
    const token = crypto.randomUUID();
    if (!(await this.#store.tryAcquire(this.#key, token, this.#settings.expirationMs))) return false;
    if (this.#isClosed()) {
      await this.#store.release(this.#key, token).catch(() => {});
      this.#checkOpen("acquire");
    }
    this.#setToken(token);
    this.#lastRenewed = Date.now();
    this.#scheduleRenewal();
    return true;
  }

  async tryAcquire(): Promise<boolean> {
    this.#checkOpen("acquire");
    if (this.held) return true;
    if (this.#acquiring) {
      await this.#acquiring.done.catch(() => {});
      return this.held;
    }
    return await this.#attempt();
  }

  acquire(options: AcquireOptions = {}): Promise<void> {
    try {
      this.#checkOpen("acquire");
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.held) return Promise.resolve();
    const { signal } = options;
    // Checked before a loop starts: a caller that has already given up must not leave one running.
    if (signal?.aborted) return Promise.reject(signal.reason);
    const shared = this.#acquiring ?? this.#startAcquire();
    shared.waiters++;
    if (!signal) return shared.done;
    // Each caller stops waiting on its own signal; the shared loop stops only when no caller waits any more.
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        if (--shared.waiters === 0) shared.stop.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      shared.done.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Starts the one acquire loop that every concurrent `acquire` of this object waits on. */
  #startAcquire(): SharedAcquire {
    const stop = new AbortController();
    const shared: SharedAcquire = {
      stop,
      waiters: 0,
      done: this.#acquireLoop(stop.signal).finally(() => {
        if (this.#acquiring === shared) this.#acquiring = undefined;
      }),
    };
    shared.done.catch(() => {}); // each caller gets the outcome through its own chain
    this.#acquiring = shared;
    return shared;
  }

  async #acquireLoop(signal: AbortSignal): Promise<void> {
    const { acquireIntervalMs, acquireMaxRetries, acquireTimeoutMs } = this.#settings;
    const deadline = Date.now() + acquireTimeoutMs;
    for (let retries = 0;; retries++) {
      signal.throwIfAborted();
      this.#checkOpen("acquire");
      if (await this.#attempt()) {
        if (!signal.aborted) return;
        // Every caller gave up while the last attempt was in flight: nobody would release what it took.
        await this.release();
        signal.throwIfAborted();
      }
      if (acquireMaxRetries > 0 && retries >= acquireMaxRetries) {
        throw new TimeoutError(
          `Cannot acquire lock "${this.name}": still held by another owner after ${acquireMaxRetries} retries`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(
          `Cannot acquire lock "${this.name}": still held by another owner after ${acquireTimeoutMs} ms`,
        );
      }
      await pause(Math.min(acquireIntervalMs, left), signal);
    }
  }

  #scheduleRenewal(): void {
    const interval = Math.max(10, Math.floor(this.#settings.expirationMs / 3));
    this.#renewTimer = setTimeout(() => this.#renew(), interval);
  }

  async #renew(): Promise<void> {
    this.#renewTimer = undefined;
    const token = this.#token;
    if (token === undefined) return;
    const { expirationMs, logger } = this.#settings;
    try {
      const kept = await this.#store.renew(this.#key, token, expirationMs);
      if (this.#token !== token) return; // released meanwhile
      if (!kept) {
        this.#setToken(undefined);
        logger.warn("lock lost: it expired and may be held by another owner", { lock: this.name });
        return;
      }
      this.#lastRenewed = Date.now();
    } catch (err) {
      if (this.#token !== token) return;
      if (Date.now() - this.#lastRenewed >= expirationMs) {
        this.#setToken(undefined);
        logger.error("lock lost: renewal failed for longer than its expiration", {
          lock: this.name,
          error: errorMessage(err),
        });
        return;
      }
      logger.warn("lock renewal failed, retrying", { lock: this.name, error: errorMessage(err) });
    }
    this.#scheduleRenewal();
  }

  async release(): Promise<boolean> {
    const token = this.#token;
    if (token === undefined) return false;
    this.#setToken(undefined);
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    return await this.#store.release(this.#key, token);
  }
}

/** Builds a {@linkcode LockMaker} on top of a store. */
export function buildLockMaker(store: LockStore, settings: Settings, what: string): LockMaker {
  /** Locks currently held, released by close(). */
  const held = new Set<StoreLock>();
  let closed = false;
  const isClosed = () => closed;

  function make(name: string): Lock {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`Cannot make lock as 'name' must be a non-empty string: current value is ${name}`);
    }
    if (closed) throw new ClosedError(`Cannot make lock "${name}" as the ${what} is closed`);
    return new StoreLock(name, store, settings, what, isClosed, held);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all([...held].map((lock) => lock.release().catch(() => false)));
    await store.close();
  }

  return { make, close } satisfies LockMaker;
}

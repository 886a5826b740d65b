/**
 * The in-process lock maker: locks exclude each other within one maker only (one process). For `due dev`,
 * tests and single-process games; expirations and renewals behave as with Redis.
 *
 * @module
 */
import { createLogger } from "../../core/logger.ts";
import { buildLockMaker, type LockOptions, type LockStore, validateLockOptions } from "./_lock.ts";
import type { LockMaker } from "./types.ts";

export {
  DEFAULT_LOCK_ACQUIRE_INTERVAL_MS,
  DEFAULT_LOCK_ACQUIRE_MAX_RETRIES,
  DEFAULT_LOCK_ACQUIRE_TIMEOUT_MS,
  DEFAULT_LOCK_EXPIRATION_MS,
  DEFAULT_LOCK_PREFIX,
} from "./_lock.ts";
export type { LockOptions } from "./_lock.ts";

/** Options of {@linkcode createMemoryLockMaker}. */
export interface MemoryLockOptions extends LockOptions {
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/**
 * Creates an in-process lock maker.
 *
 * @example
 * ```ts
 * import { createMemoryLockMaker } from "./memory.ts";
 * const locks = createMemoryLockMaker();
 * const lock = locks.make("guild:7");
 * await lock.acquire();
 * try {
 *   // only one task at a time gets here
 * } finally {
 *   await lock.release();
 * }
 * await locks.close();
 * ```
 */
export function createMemoryLockMaker(options: MemoryLockOptions = {}): LockMaker {
  const { now = Date.now, logger = createLogger({ attrs: { component: "lock.memory" } }) } = options;
  const settings = validateLockOptions(options, "memory lock", logger);
  const holders = new Map<string, { token: string; expiresAt: number }>();
  const current = (key: string) => {
    const holder = holders.get(key);
    if (holder && holder.expiresAt <= now()) {
      holders.delete(key);
      return undefined;
    }
    return holder;
  };
  const store: LockStore = {
    tryAcquire: (key, token, expirationMs) => {
      if (current(key)) return Promise.resolve(false);
      holders.set(key, { token, expiresAt: now() + expirationMs });
      return Promise.resolve(true);
    },
    renew: (key, token, expirationMs) => {
      const holder = current(key);
      if (holder?.token !== token) return Promise.resolve(false);
      holder.expiresAt = now() + expirationMs;
      return Promise.resolve(true);
    },
    release: (key, token) => {
      if (current(key)?.token !== token) return Promise.resolve(false);
      holders.delete(key);
      return Promise.resolve(true);
    },
    close: () => {
      holders.clear();
      return Promise.resolve();
    },
  };
  return buildLockMaker(store, settings, "memory lock");
}

/**
 * Lock backends by driver name, loaded on first use so a backend's npm client is imported only when chosen.
 *
 * | driver | factory | server |
 * |---|---|---|
 * | `memory` | {@linkcode createMemoryLockMaker} | none (one process) |
 * | `redis` | `createRedisLockMaker` | Redis |
 * | `memcache` | `createMemcacheLockMaker` | memcached |
 *
 * @example
 * ```ts
 * import { createLockMaker } from "./mod.ts";
 * const locks = await createLockMaker("memory", {});
 * const lock = locks.make("guild:7");
 * await lock.acquire();
 * await lock.release();
 * await locks.close();
 * ```
 *
 * @module
 */
import type { LockMaker } from "./types.ts";
import type { MemoryLockOptions } from "./memory.ts";
import type { RedisLockOptions } from "./redis.ts";
import type { MemcacheLockOptions } from "./memcache.ts";

export type { AcquireOptions, Lock, LockMaker } from "./types.ts";
export {
  createMemoryLockMaker,
  DEFAULT_LOCK_ACQUIRE_INTERVAL_MS,
  DEFAULT_LOCK_ACQUIRE_MAX_RETRIES,
  DEFAULT_LOCK_ACQUIRE_TIMEOUT_MS,
  DEFAULT_LOCK_EXPIRATION_MS,
  DEFAULT_LOCK_PREFIX,
  type LockOptions,
  type MemoryLockOptions,
} from "./memory.ts";
export type { MemcacheLockOptions, RedisLockOptions };

/** The options of each driver. */
export interface LockDriverOptions {
  memory: MemoryLockOptions;
  redis: RedisLockOptions;
  memcache: MemcacheLockOptions;
}

/** A driver name of the `lock` config section. */
export type LockDriver = keyof LockDriverOptions;

/** Loaders of each driver's factory. */
export const LOCK_DRIVERS: {
  [D in LockDriver]: () => Promise<(options: LockDriverOptions[D]) => LockMaker | Promise<LockMaker>>;
} = {
  memory: () => import("./memory.ts").then((m) => m.createMemoryLockMaker),
  redis: () => import("./redis.ts").then((m) => m.createRedisLockMaker),
  memcache: () => import("./memcache.ts").then((m) => m.createMemcacheLockMaker),
};

/**
 * Loads the backend of `driver` and creates a lock maker with `options`.
 *
 * @throws {TypeError} for an unknown driver
 */
export async function createLockMaker<D extends LockDriver>(
  driver: D,
  options: LockDriverOptions[D],
): Promise<LockMaker> {
  if (!Object.hasOwn(LOCK_DRIVERS, driver)) {
    throw new TypeError(
      `Cannot create lock maker as 'driver' must be one of ${
        Object.keys(LOCK_DRIVERS).join("|")
      }: current value is "${driver}"`,
    );
  }
  const create = await LOCK_DRIVERS[driver]();
  return await create(options);
}

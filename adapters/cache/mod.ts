/**
 * Cache backends by driver name, loaded on first use so a backend's npm client is imported only when chosen.
 *
 * | driver | factory | server |
 * |---|---|---|
 * | `memory` | {@linkcode createMemoryCache} | none (one process) |
 * | `redis` | `createRedisCache` | Redis |
 * | `memcache` | `createMemcacheCache` | memcached |
 *
 * @example
 * ```ts
 * import { createCache } from "./mod.ts";
 * const cache = await createCache("memory", { prefix: "game" });
 * console.assert(await cache.getSet("motd", () => "hello") === "hello");
 * await cache.close();
 * ```
 *
 * @module
 */
import type { Cache } from "./types.ts";
import type { MemoryCacheOptions } from "./memory.ts";
import type { RedisCacheOptions } from "./redis.ts";
import type { MemcacheCacheOptions } from "./memcache.ts";

export type { Cache, CacheLoader, CacheSetOptions, CacheValue } from "./types.ts";
export {
  type CacheOptions,
  createMemoryCache,
  DEFAULT_CACHE_MAX_EXPIRATION_MS,
  DEFAULT_CACHE_MIN_EXPIRATION_MS,
  DEFAULT_CACHE_NIL_EXPIRATION_MS,
  DEFAULT_CACHE_NIL_VALUE,
  DEFAULT_CACHE_PREFIX,
  DEFAULT_MEMORY_CACHE_MAX_ENTRIES,
  DEFAULT_MEMORY_CACHE_SWEEP_INTERVAL_MS,
  type MemoryCacheOptions,
} from "./memory.ts";
export type { MemcacheCacheOptions, RedisCacheOptions };

/** The options of each driver. */
export interface CacheDriverOptions {
  memory: MemoryCacheOptions;
  redis: RedisCacheOptions;
  memcache: MemcacheCacheOptions;
}

/** A driver name of the `cache` config section. */
export type CacheDriver = keyof CacheDriverOptions;

/** Loaders of each driver's factory. */
export const CACHE_DRIVERS: {
  [D in CacheDriver]: () => Promise<(options: CacheDriverOptions[D]) => Cache | Promise<Cache>>;
} = {
  memory: () => import("./memory.ts").then((m) => m.createMemoryCache),
  redis: () => import("./redis.ts").then((m) => m.createRedisCache),
  memcache: () => import("./memcache.ts").then((m) => m.createMemcacheCache),
};

/**
 * Loads the backend of `driver` and creates a cache with `options`.
 *
 * @throws {TypeError} for an unknown driver
 */
export async function createCache<D extends CacheDriver>(
  driver: D,
  options: CacheDriverOptions[D],
): Promise<Cache> {
  if (!Object.hasOwn(CACHE_DRIVERS, driver)) {
    throw new TypeError(
      `Cannot create cache as 'driver' must be one of ${
        Object.keys(CACHE_DRIVERS).join("|")
      }: current value is "${driver}"`,
    );
  }
  const create = await CACHE_DRIVERS[driver]();
  return await create(options);
}

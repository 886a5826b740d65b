/**
 * The Redis cache (due's `cache/redis`), through ioredis: `GET`, `SET … PX`, `DEL`, `INCRBY`.
 *
 * @module
 */
import { createLogger, type Logger } from "../../core/logger.ts";
import {
  closeRedis,
  connectRedis,
  DEFAULT_REDIS_ADDRS,
  redisCommand,
  type RedisConnectionOptions,
  redisError,
  validateRedisOptions,
} from "../_redis.ts";
import { buildCache, type CacheOptions, type CacheStore, validateCacheOptions } from "./_cache.ts";
import type { Cache } from "./types.ts";

/** Options of {@linkcode createRedisCache}: due's `cache.redis` keys. */
export interface RedisCacheOptions extends RedisConnectionOptions, CacheOptions {
  /** Where connection trouble is logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a Redis cache.
 *
 * @throws {DueError} `unavailable` (with `addr`) when Redis cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createRedisCache } from "./redis.ts";
 * const cache = await createRedisCache({ addrs: ["127.0.0.1:6379"], prefix: "game:cache" });
 * await cache.set("motd", "hello", { ttlMs: 60_000 });
 * await cache.close();
 * ```
 */
export async function createRedisCache(options: RedisCacheOptions = {}): Promise<Cache> {
  const { addrs = DEFAULT_REDIS_ADDRS, logger = createLogger({ attrs: { component: "cache.redis" } }) } =
    options;
  validateRedisOptions(options, "redis cache");
  const common = validateCacheOptions(options, "redis cache");
  const client = await connectRedis(options, "redis cache", "cache", logger);
  const store: CacheStore = {
    get: (key) => redisCommand(`get "${key}"`, addrs, async () => (await client.get(key)) ?? undefined),
    set: (key, value, ttlMs) =>
      redisCommand(`set "${key}"`, addrs, async () => {
        if (ttlMs > 0) await client.set(key, value, "PX", Math.ceil(ttlMs));
        else await client.set(key, value);
      }),
    delete: (keys) => redisCommand(`delete ${keys.length} keys`, addrs, () => client.del(...keys)),
    incr: async (key, by) => {
      try {
        return await client.incrby(key, by);
      } catch (err) {
        if (err instanceof Error && /not an integer|out of range/.test(err.message)) {
          throw new TypeError(`Cannot increment "${key}" as its value is not an integer`, { cause: err });
        }
        throw redisError(err, `increment "${key}"`, addrs);
      }
    },
    close: () => closeRedis(client),
  };
  return buildCache(store, common, "redis cache");
}

/**
 * The Redis lock maker (due's `lock/redis`): `SET key token NX PX expiration` to take, a Lua compare-and-PEXPIRE
 * to renew and a Lua compare-and-DEL to release, so only the holder's token can extend or free the lock.
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
  validateRedisOptions,
} from "../_redis.ts";
import { buildLockMaker, type LockOptions, type LockStore, validateLockOptions } from "./_lock.ts";
import type { LockMaker } from "./types.ts";

/** Extends the expiration only while the key holds our token. */
export const RENEW_SCRIPT =
  `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the key only while it holds our token. */
export const RELEASE_SCRIPT =
  `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

/** Options of {@linkcode createRedisLockMaker}: due's `lock.redis` keys. */
export interface RedisLockOptions extends RedisConnectionOptions, LockOptions {
  /** Where connection trouble and lost locks are logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a Redis lock maker.
 *
 * @throws {DueError} `unavailable` (with `addr`) when Redis cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createRedisLockMaker } from "./redis.ts";
 * const locks = await createRedisLockMaker({ addrs: ["127.0.0.1:6379"] });
 * const lock = locks.make("guild:7");
 * await lock.acquire();
 * await lock.release();
 * await locks.close();
 * ```
 */
export async function createRedisLockMaker(options: RedisLockOptions = {}): Promise<LockMaker> {
  const { addrs = DEFAULT_REDIS_ADDRS, logger = createLogger({ attrs: { component: "lock.redis" } }) } =
    options;
  validateRedisOptions(options, "redis lock");
  const settings = validateLockOptions(options, "redis lock", logger);
  const client = await connectRedis(options, "redis lock", "lock", logger);
  const store: LockStore = {
    tryAcquire: (key, token, expirationMs) =>
      redisCommand(
        `acquire lock "${key}"`,
        addrs,
        async () => (await client.set(key, token, "PX", Math.ceil(expirationMs), "NX")) === "OK",
      ),
    renew: (key, token, expirationMs) =>
      redisCommand(
        `renew lock "${key}"`,
        addrs,
        async () => Number(await client.eval(RENEW_SCRIPT, 1, key, token, Math.ceil(expirationMs))) === 1,
      ),
    release: (key, token) =>
      redisCommand(
        `release lock "${key}"`,
        addrs,
        async () => Number(await client.eval(RELEASE_SCRIPT, 1, key, token)) === 1,
      ),
    close: () => closeRedis(client),
  };
  return buildLockMaker(store, settings, "redis lock");
}

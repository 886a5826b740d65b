/**
 * The memcached lock maker (due's `lock/memcache`): `ADD key token` to take; renew and release read the item
 * with its CAS token and, when it still holds our token, rewrite (renew) or delete (release) it with that CAS,
 * so an item changed by anyone else in between is left alone.
 *
 * memcached expirations are whole seconds counted on a clock that a timer advances once a second. When that
 * timer runs late across a second boundary the clock jumps two seconds at once, so an item given n seconds
 * lives anything between a little over n - 2 and n + 1 seconds (measured here under CI load: items given 2 s
 * lived as little as 550 ms). To keep a held lock alive between renewals whatever the clock does, the item is
 * stored with `expirationMs` rounded up to whole seconds plus two more: it never lives less than
 * `expirationMs`, and a crashed holder's lock frees between `expirationMs` and `expirationMs` + 3 s after its
 * last renewal (Redis: exactly `expirationMs`).
 *
 * @module
 */
import { createLogger, type Logger } from "../../core/logger.ts";
import { connectMemcache, DEFAULT_MEMCACHE_ADDRS, type MemcacheConnectionOptions } from "../_memcache.ts";
import { checkAddrs } from "../_options.ts";
import { buildLockMaker, type LockOptions, type LockStore, validateLockOptions } from "./_lock.ts";
import type { LockMaker } from "./types.ts";

/** Added to every lock item's life to cover memcached's one-second clock and its two-second jumps. */
export const MEMCACHE_CLOCK_SLACK_MS = 2_000;

/** Options of {@linkcode createMemcacheLockMaker}: due's `lock.memcache` keys. */
export interface MemcacheLockOptions extends MemcacheConnectionOptions, LockOptions {
  /** Where client trouble and lost locks are logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a memcached lock maker (asks every server for its version first).
 *
 * @throws {DueError} `unavailable` (with `addr`) when a server does not answer
 *
 * @example
 * ```ts ignore
 * import { createMemcacheLockMaker } from "./memcache.ts";
 * const locks = await createMemcacheLockMaker({ addrs: ["127.0.0.1:11211"] });
 * const lock = locks.make("guild:7");
 * if (await lock.tryAcquire()) await lock.release();
 * await locks.close();
 * ```
 */
export async function createMemcacheLockMaker(options: MemcacheLockOptions = {}): Promise<LockMaker> {
  const { addrs = DEFAULT_MEMCACHE_ADDRS, logger = createLogger({ attrs: { component: "lock.memcache" } }) } =
    options;
  checkAddrs(addrs, "memcache lock");
  const settings = validateLockOptions(options, "memcache lock", logger);
  const client = await connectMemcache(options, "memcache lock", logger);
  const life = (expirationMs: number) => Math.ceil(expirationMs / 1000) * 1000 + MEMCACHE_CLOCK_SLACK_MS;
  const store: LockStore = {
    tryAcquire: (key, token, expirationMs) => client.add(key, token, life(expirationMs)),
    renew: async (key, token, expirationMs) => {
      const item = await client.get(key);
      if (!item || item.value.toString("utf8") !== token) return false;
      return await client.set(key, token, life(expirationMs), item.cas);
    },
    release: async (key, token) => {
      const item = await client.get(key);
      if (!item || item.value.toString("utf8") !== token) return false;
      return await client.delete(key, item.cas);
    },
    close: () => {
      client.close();
      return Promise.resolve();
    },
  };
  return buildLockMaker(store, settings, "memcache lock");
}

/**
 * The memcached cache (due's `cache/memcache`), over the binary protocol through memjs.
 *
 * memcached differs from Redis in ways callers can see: expirations are whole seconds (a `ttlMs` is rounded
 * up), counters are unsigned 64-bit (`decr` stops at 0, and a missing counter decremented stays 0; the spaces
 * memcached pads a decremented number with are trimmed by `get`), and a value
 * may be evicted before it expires when memory runs short.
 *
 * @module
 */
import { createLogger, type Logger } from "../../core/logger.ts";
import { connectMemcache, DEFAULT_MEMCACHE_ADDRS, type MemcacheConnectionOptions } from "../_memcache.ts";
import { checkAddrs } from "../_options.ts";
import { buildCache, type CacheOptions, type CacheStore, validateCacheOptions } from "./_cache.ts";
import type { Cache } from "./types.ts";

const COUNTER_PADDING_REGEXP = /^\d+ +$/;

/** Options of {@linkcode createMemcacheCache}: due's `cache.memcache` keys. */
export interface MemcacheCacheOptions extends MemcacheConnectionOptions, CacheOptions {
  /** Where client trouble is logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a memcached cache (asks every server for its version first).
 *
 * @throws {DueError} `unavailable` (with `addr`) when a server does not answer
 *
 * @example
 * ```ts ignore
 * import { createMemcacheCache } from "./memcache.ts";
 * const cache = await createMemcacheCache({ addrs: ["127.0.0.1:11211"] });
 * await cache.set("motd", "hello", { ttlMs: 60_000 });
 * await cache.close();
 * ```
 */
export async function createMemcacheCache(options: MemcacheCacheOptions = {}): Promise<Cache> {
  const {
    addrs = DEFAULT_MEMCACHE_ADDRS,
    logger = createLogger({ attrs: { component: "cache.memcache" } }),
  } = options;
  checkAddrs(addrs, "memcache cache");
  const common = validateCacheOptions(options, "memcache cache");
  const client = await connectMemcache(options, "memcache cache", logger);
  const store: CacheStore = {
    get: async (key) => {
      const text = (await client.get(key))?.value.toString("utf8");
      // memcached's decr keeps the length of the stored number and pads it with spaces ("10" - 4 = "6 ").
      return text !== undefined && COUNTER_PADDING_REGEXP.test(text) ? text.trimEnd() : text;
    },
    set: async (key, value, ttlMs) => {
      await client.set(key, value, ttlMs);
    },
    delete: async (keys) => (await Promise.all(keys.map((key) => client.delete(key)))).filter(Boolean).length,
    incr: (key, by) => client.incr(key, by, 0),
    close: () => {
      client.close();
      return Promise.resolve();
    },
  };
  return buildCache(store, common, "memcache cache");
}

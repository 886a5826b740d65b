/**
 * The in-process cache: a `Map` with expirations, for `due dev`, tests and single-process games.
 *
 * Expired entries are dropped when read and by a sweep every `sweepIntervalMs` (an unref'd interval cleared by
 * `close()`); past `maxEntries` the oldest written entry is evicted.
 *
 * @module
 */
import type { Cache } from "./types.ts";
import { buildCache, type CacheOptions, type CacheStore, validateCacheOptions } from "./_cache.ts";

export {
  DEFAULT_CACHE_MAX_EXPIRATION_MS,
  DEFAULT_CACHE_MIN_EXPIRATION_MS,
  DEFAULT_CACHE_NIL_EXPIRATION_MS,
  DEFAULT_CACHE_NIL_VALUE,
  DEFAULT_CACHE_PREFIX,
} from "./_cache.ts";
export type { CacheOptions } from "./_cache.ts";

/** Default interval of the expiry sweep. */
export const DEFAULT_MEMORY_CACHE_SWEEP_INTERVAL_MS = 60_000;
/** Default entry limit. */
export const DEFAULT_MEMORY_CACHE_MAX_ENTRIES = 100_000;

/** Options of {@linkcode createMemoryCache}. */
export interface MemoryCacheOptions extends CacheOptions {
  /** Interval of the sweep that drops expired entries, in milliseconds. @default 60000 */
  sweepIntervalMs?: number;
  /** Most entries kept; the oldest written is evicted past it. @default 100000 */
  maxEntries?: number;
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

interface Entry {
  value: string;
  /** 0 = never. */
  expiresAt: number;
}

/**
 * Creates an in-process cache.
 *
 * @example
 * ```ts
 * import { createMemoryCache } from "./memory.ts";
 * const cache = createMemoryCache();
 * const name = await cache.getSet("user:1:name", () => "alice");
 * console.assert(name === "alice");
 * await cache.close();
 * ```
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const {
    sweepIntervalMs = DEFAULT_MEMORY_CACHE_SWEEP_INTERVAL_MS,
    maxEntries = DEFAULT_MEMORY_CACHE_MAX_ENTRIES,
    now = Date.now,
  } = options;
  const common = validateCacheOptions(options, "memory cache");
  if (!(sweepIntervalMs > 0)) {
    throw new RangeError(
      `Cannot create memory cache as 'sweepIntervalMs' must be > 0: current value is ${sweepIntervalMs}`,
    );
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `Cannot create memory cache as 'maxEntries' must be an integer >= 1: current value is ${maxEntries}`,
    );
  }
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt !== 0 && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const put = (key: string, value: string, ttlMs: number) => {
    entries.delete(key); // re-insert so Map order is write order
    entries.set(key, { value, expiresAt: ttlMs > 0 ? now() + ttlMs : 0 });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const sweep = () => {
    const t = now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt !== 0 && entry.expiresAt <= t) entries.delete(key);
    }
  };
  const timer = setInterval(sweep, sweepIntervalMs);
  Deno.unrefTimer(timer);

  const store: CacheStore = {
    get: (key) => Promise.resolve(live(key)?.value),
    set: (key, value, ttlMs) => {
      put(key, value, ttlMs);
      return Promise.resolve();
    },
    delete: (keys) => {
      let n = 0;
      for (const key of keys) if (live(key) && entries.delete(key)) n++;
      return Promise.resolve(n);
    },
    incr: (key, by) => {
      const entry = live(key);
      const current = entry === undefined ? 0 : Number(entry.value);
      if (entry !== undefined && (!/^-?\d+$/.test(entry.value) || !Number.isSafeInteger(current))) {
        return Promise.reject(new TypeError(`Cannot increment "${key}" as its value is not an integer`));
      }
      const next = current + by;
      if (!Number.isSafeInteger(next)) {
        return Promise.reject(
          new RangeError(`Cannot increment "${key}" as the result leaves the safe integer range`),
        );
      }
      // A counter keeps its expiration, as Redis INCRBY does.
      if (entry) entry.value = String(next);
      else put(key, String(next), 0);
      return Promise.resolve(next);
    },
    close: () => {
      clearInterval(timer);
      entries.clear();
      return Promise.resolve();
    },
  };
  return buildCache(store, common, "memory cache");
}

/**
 * The cache (due's `cache`): a key/value store with expirations, a read-through `getSet` that guards the loader
 * with a single flight per key and remembers "no value" for a short time, and integer counters.
 *
 * Values are text: a string is stored as is, anything else as its JSON text, and `get` returns the string.
 *
 * @module
 */

/** What can be stored: strings as is, other values as JSON text. */
export type CacheValue = string | number | boolean | object;

/**
 * Loads the value of a missing key for {@linkcode Cache.getSet}. `undefined` or `null` means "no such value":
 * the cache then stores its `nilValue` marker for `nilExpirationMs`, so the loader is not called again for a
 * while.
 */
export type CacheLoader = () => CacheValue | null | undefined | Promise<CacheValue | null | undefined>;

/** Options of {@linkcode Cache.set}. */
export interface CacheSetOptions {
  /** Time to live in milliseconds; 0 or absent means no expiration. */
  ttlMs?: number;
}

/** A cache connection. Every key is stored under the backend's prefix (`<prefix>:<key>`). */
export interface Cache {
  /** Whether `key` holds a value (a cached "no value" marker counts as none). */
  has(key: string): Promise<boolean>;
  /** The value of `key`, or `undefined` when missing or cached as "no value". */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` (JSON text unless a string) under `key`. */
  set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void>;
  /**
   * The value of `key`; when missing, calls `loader` once for all concurrent callers of this cache object
   * (single flight per key), stores its result with a random time to live between `minExpirationMs` and
   * `maxExpirationMs` (spreading expirations so entries do not all reload at once), or stores the
   * "no value" marker for `nilExpirationMs` when the loader returns `undefined`/`null`. A loader error reaches
   * every waiting caller and nothing is stored.
   */
  getSet(key: string, loader: CacheLoader): Promise<string | undefined>;
  /** Deletes keys; `true` when at least one existed. */
  delete(...keys: string[]): Promise<boolean>;
  /**
   * Adds `by` (a safe integer, default 1) to the integer counter at `key` and returns the new value; a missing
   * key counts as 0. @throws {TypeError} when the stored value is not an integer
   */
  incr(key: string, by?: number): Promise<number>;
  /** Subtracts `by` (default 1): `incr(key, -by)`. memcached counters stop at 0. */
  decr(key: string, by?: number): Promise<number>;
  /** Releases every connection and timer. Idempotent. */
  close(): Promise<void>;
}

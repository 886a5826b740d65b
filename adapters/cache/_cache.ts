/**
 * Private to `adapters/cache/`: the behaviour every backend shares (prefixing, the "no value" marker, single
 * flight, randomised expirations, argument checks), built on a raw key/value store each backend provides.
 *
 * @module
 */
import { ClosedError } from "../../core/errors.ts";
import { checkPrefix } from "../_options.ts";
import type { Cache, CacheLoader, CacheSetOptions, CacheValue } from "./types.ts";

/** Default key prefix, as due's. */
export const DEFAULT_CACHE_PREFIX = "due:cache";
/** Default "no value" marker, as due's. */
export const DEFAULT_CACHE_NIL_VALUE = "cache@nil";
/** Default life of a "no value" marker, as due's (10 s). */
export const DEFAULT_CACHE_NIL_EXPIRATION_MS = 10_000;
/** Default shortest life of a `getSet` value, as due's (1 h). */
export const DEFAULT_CACHE_MIN_EXPIRATION_MS = 3_600_000;
/** Default longest life of a `getSet` value, as due's (24 h). */
export const DEFAULT_CACHE_MAX_EXPIRATION_MS = 86_400_000;

/** Options every cache backend takes (due's `cache.*` keys). */
export interface CacheOptions {
  /** Key prefix: key `k` is stored as `<prefix>:k` (as is when empty). @default "due:cache" */
  prefix?: string;
  /** The marker stored for "no value". @default "cache@nil" */
  nilValue?: string;
  /** Life of the marker, in milliseconds. @default 10000 */
  nilExpirationMs?: number;
  /** Shortest life of a value stored by `getSet`, in milliseconds. @default 3600000 */
  minExpirationMs?: number;
  /** Longest life of a value stored by `getSet`, in milliseconds. @default 86400000 */
  maxExpirationMs?: number;
}

/** The raw store a backend provides; keys are already prefixed. */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  /** `ttlMs` 0 = no expiration. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Returns how many existed. */
  delete(keys: string[]): Promise<number>;
  /** Adds a safe integer `by` and returns the new value. */
  incr(key: string, by: number): Promise<number>;
  close(): Promise<void>;
}

/** Validates the common options; `what` names the backend ("redis cache"). */
export function validateCacheOptions(options: CacheOptions, what: string): Required<CacheOptions> {
  const {
    prefix = DEFAULT_CACHE_PREFIX,
    nilValue = DEFAULT_CACHE_NIL_VALUE,
    nilExpirationMs = DEFAULT_CACHE_NIL_EXPIRATION_MS,
    minExpirationMs = DEFAULT_CACHE_MIN_EXPIRATION_MS,
    maxExpirationMs = DEFAULT_CACHE_MAX_EXPIRATION_MS,
  } = options;
  checkPrefix(prefix, what);
  if (typeof nilValue !== "string" || nilValue === "") {
    throw new TypeError(
      `Cannot create ${what} as 'nilValue' must be a non-empty string: current value is ${nilValue}`,
    );
  }
  for (
    const [name, value] of [["nilExpirationMs", nilExpirationMs], [
      "minExpirationMs",
      minExpirationMs,
    ]] as const
  ) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(
        `Cannot create ${what} as '${name}' must be a number > 0: current value is ${value}`,
      );
    }
  }
  if (!Number.isFinite(maxExpirationMs) || maxExpirationMs < minExpirationMs) {
    throw new RangeError(
      `Cannot create ${what} as 'maxExpirationMs' must be >= 'minExpirationMs' (${minExpirationMs}): current value is ${maxExpirationMs}`,
    );
  }
  return { prefix, nilValue, nilExpirationMs, minExpirationMs, maxExpirationMs };
}

function checkKey(key: unknown, action: string): asserts key is string {
  if (typeof key !== "string" || key === "") {
    throw new TypeError(`Cannot ${action} as 'key' must be a non-empty string: current value is ${key}`);
  }
}

function textOf(value: CacheValue): string {
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  if (typeof text !== "string") {
    throw new TypeError(`Cannot cache a value with no JSON form: current value is ${value}`);
  }
  return text;
}

/** A random integer in [min, max]. */
export function randomExpiration(minMs: number, maxMs: number): number {
  return Math.floor(minMs + Math.random() * (maxMs - minMs + 1));
}

/** Builds the {@linkcode Cache} on top of a raw store. */
export function buildCache(store: CacheStore, options: Required<CacheOptions>, what: string): Cache {
  const { prefix, nilValue, nilExpirationMs, minExpirationMs, maxExpirationMs } = options;
  const full = (key: string) => prefix === "" ? key : `${prefix}:${key}`;
  const flights = new Map<string, Promise<string | undefined>>();
  let closed = false;
  const checkOpen = (action: string) => {
    if (closed) throw new ClosedError(`Cannot ${action} as the ${what} is closed`);
  };

  /** A stored value as callers see it: the "no value" marker reads as missing. */
  const visible = (raw: string | undefined) => raw === nilValue ? undefined : raw;

  async function read(key: string, action: string): Promise<string | undefined> {
    checkKey(key, action);
    checkOpen(action);
    return visible(await store.get(full(key)));
  }

  function get(key: string): Promise<string | undefined> {
    return read(key, "get cache key");
  }

  async function has(key: string): Promise<boolean> {
    return (await read(key, "check cache key")) !== undefined;
  }

  async function set(key: string, value: CacheValue, setOptions: CacheSetOptions = {}): Promise<void> {
    checkKey(key, "set cache key");
    const { ttlMs = 0 } = setOptions;
    if (!Number.isFinite(ttlMs) || ttlMs < 0) {
      throw new RangeError(
        `Cannot set cache key "${key}" as 'ttlMs' must be a number >= 0: current value is ${ttlMs}`,
      );
    }
    const text = textOf(value);
    checkOpen("set cache key");
    await store.set(full(key), text, ttlMs);
  }

  /** One flight of getSet: read the key, and on a miss load and store it. */
  async function load(key: string, loader: CacheLoader): Promise<string | undefined> {
    const raw = await store.get(full(key));
    if (raw !== undefined) return visible(raw);
    const value = await loader();
    if (value === undefined || value === null) {
      await store.set(full(key), nilValue, nilExpirationMs);
      return undefined;
    }
    const text = textOf(value);
    await store.set(full(key), text, randomExpiration(minExpirationMs, maxExpirationMs));
    return text;
  }

  async function getSet(key: string, loader: CacheLoader): Promise<string | undefined> {
    checkKey(key, "get or load cache key");
    if (typeof loader !== "function") {
      throw new TypeError(
        `Cannot get or load cache key "${key}" as 'loader' must be a function: current value is ${loader}`,
      );
    }
    checkOpen("get or load cache key");
    // The read is part of the flight: callers of one key share it, and a miss costs one read, not two.
    let flight = flights.get(key);
    if (!flight) {
      flight = load(key, loader).finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return await flight;
  }

  async function del(...keys: string[]): Promise<boolean> {
    for (const key of keys) checkKey(key, "delete cache key");
    checkOpen("delete cache key");
    if (keys.length === 0) return false;
    return (await store.delete(keys.map(full))) > 0;
  }

  async function add(key: string, by: number, action: "increment" | "decrement"): Promise<number> {
    checkKey(key, `${action} cache key`);
    if (!Number.isSafeInteger(by)) {
      throw new RangeError(
        `Cannot ${action} cache key "${key}" as 'by' must be a safe integer: current value is ${by}`,
      );
    }
    checkOpen(`${action} cache key`);
    return await store.incr(full(key), action === "increment" ? by : -by);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await store.close();
  }

  return {
    has,
    get,
    set,
    getSet,
    delete: del,
    incr: (key: string, by = 1) => add(key, by, "increment"),
    decr: (key: string, by = 1) => add(key, by, "decrement"),
    close,
  } satisfies Cache;
}

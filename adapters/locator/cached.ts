/**
 * A caching locator: wraps any {@linkcode Locator} and keeps `uid → gid` and `uid → {name → nid}` in memory, so
 * gates and nodes resolve users without a backend round trip per message (due keeps the same caches in its
 * gate and node).
 *
 * How the cache stays right:
 *
 * - It follows the backend's own events (`watch(["gate", "node"])`): a bind sets a cached entry, an unbind clears
 *   it if it still names the instance unbound. Entries not cached are not created by events.
 * - It caches nothing until the watch is live, and drops everything each time the backend reports the watch live
 *   again (`onReady` after a reconnect: events in between may be lost).
 * - A lookup that raced with an event or a write for the same uid returns its answer but does not cache it.
 * - A write through this wrapper drops the uid's entry, so the next lookup here reads the backend (read your
 *   writes, even before the write's event comes back).
 * - Both maps are bounded by `maxEntries` uids, least recently used first out. Absent users are cached too.
 *
 * @module
 */
import { createLogger, type Logger } from "../../core/logger.ts";
import { errorMessage } from "../../core/errors.ts";
import { type LocateEvent, LocateEventType, type LocateWatchOptions, type Locator } from "./types.ts";

/** Default number of uids kept in each of the two maps. */
export const DEFAULT_CACHED_LOCATOR_MAX_ENTRIES = 100_000;

/** Options of {@linkcode createCachedLocator}. */
export interface CachedLocatorOptions {
  /** Uids kept in each map (gates, nodes); the least recently used go first. @default 100000 */
  maxEntries?: number;
  /** Where a failed watch is logged. @default a console logger */
  logger?: Logger;
}

/** Counters of a cached locator. */
export interface CachedLocatorStats {
  /** Lookups answered from memory. */
  hits: number;
  /** Lookups sent to the backend. */
  misses: number;
  /** Times the whole cache was dropped (watch live again). */
  resets: number;
  /** Uids in the gate map. */
  gates: number;
  /** Uids in the node map. */
  nodes: number;
}

/** A cached locator with its counters. */
export interface CachedLocator extends Locator {
  /** Counters since creation. */
  readonly stats: Readonly<CachedLocatorStats>;
  /** Whether the backend watch is live (only then are answers cached). */
  readonly live: boolean;
}

/** A Map used as an LRU: a hit moves the key to the end; inserting past `max` evicts the first key. */
class Lru<V> {
  readonly #map = new Map<number, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get size(): number {
    return this.#map.size;
  }
  /** The value, marked as recently used. */
  use(key: number): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  peek(key: number): V | undefined {
    return this.#map.get(key);
  }
  set(key: number, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  /** Replaces the value of a cached key without changing its recency. */
  replace(key: number, value: V): void {
    if (this.#map.has(key)) this.#map.set(key, value);
  }
  delete(key: number): void {
    this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

/** Absent (looked up, not bound). */
const NONE = "";

/**
 * Wraps `locator` with an in-memory cache kept current by its events. `close()` also closes `locator`.
 *
 * @example
 * ```ts
 * import { createMemoryLocator } from "./memory.ts";
 * import { createCachedLocator } from "./cached.ts";
 * const locator = createCachedLocator(createMemoryLocator(), { maxEntries: 10_000 });
 * await locator.bindGate(1001, "g1");
 * console.assert(await locator.locateGate(1001) === "g1"); // read from the backend, then cached
 * console.assert(await locator.locateGate(1001) === "g1"); // from memory
 * await locator.close();
 * ```
 */
export function createCachedLocator(locator: Locator, options: CachedLocatorOptions = {}): CachedLocator {
  const { maxEntries = DEFAULT_CACHED_LOCATOR_MAX_ENTRIES } = options;
  const { logger = createLogger({ attrs: { component: "locate.cached" } }) } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `Cannot create cached locator as 'maxEntries' must be an integer >= 1: current value is ${maxEntries}`,
    );
  }
  // gid, or NONE when the user has no gate.
  const gates = new Lru<string>(maxEntries);
  const nodes = new Lru<Readonly<Record<string, string>>>(maxEntries);
  const stats = { hits: 0, misses: 0, resets: 0 };
  let live = false;
  // Lookups in flight per uid; `changed` is set when an event, a write or a reset touched the uid meanwhile.
  const fills = new Map<number, { count: number; changed: boolean }>();

  function touched(uid: number): void {
    const fill = fills.get(uid);
    if (fill) fill.changed = true;
  }

  function reset(): void {
    gates.clear();
    nodes.clear();
    for (const fill of fills.values()) fill.changed = true;
    stats.resets++;
  }

  /** Runs a backend lookup; `store` caches its answer unless the uid changed meanwhile. */
  async function fill<T>(uid: number, load: () => Promise<T>, store: (value: T) => void): Promise<T> {
    stats.misses++;
    let entry = fills.get(uid);
    if (!entry) fills.set(uid, entry = { count: 0, changed: !live });
    entry.count++;
    try {
      const value = await load();
      if (live && !entry.changed) store(value);
      return value;
    } finally {
      if (--entry.count === 0) fills.delete(uid);
    }
  }

  function apply(event: LocateEvent): void {
    const { uid, type, insID, insName } = event;
    touched(uid);
    if (type === LocateEventType.BindGate) {
      gates.replace(uid, insID);
    } else if (type === LocateEventType.UnbindGate) {
      if (gates.peek(uid) === insID) gates.replace(uid, NONE);
    } else {
      const record = nodes.peek(uid);
      if (record === undefined) return;
      if (type === LocateEventType.BindNode) nodes.replace(uid, { ...record, [insName]: insID });
      else if (record[insName] === insID) {
        const { [insName]: _, ...rest } = record;
        nodes.replace(uid, rest);
      }
    }
  }

  // The cache's own watch of the backend, for the wrapper's lifetime.
  const stop = new AbortController();
  const following = (async () => {
    try {
      const events = locator.watch(["gate", "node"], {
        signal: stop.signal,
        onReady: () => {
          reset();
          live = true;
        },
      });
      for await (const event of events) apply(event);
    } catch (err) {
      if (!stop.signal.aborted) logger.warn("cached locator watch failed", { error: errorMessage(err) });
    } finally {
      live = false;
      reset();
    }
  })();

  async function write(map: Lru<unknown>, uid: number, call: () => Promise<void>): Promise<void> {
    map.delete(uid);
    touched(uid);
    try {
      await call();
    } finally {
      map.delete(uid);
      touched(uid);
    }
  }

  async function loadNodes(uid: number): Promise<Readonly<Record<string, string>>> {
    if (live) {
      const record = nodes.use(uid);
      if (record !== undefined) {
        stats.hits++;
        return record;
      }
    }
    return await fill(uid, () => locator.locateNodes(uid), (record) => nodes.set(uid, { ...record }));
  }

  return {
    name: `cached ${locator.name}`,
    get stats() {
      return { ...stats, gates: gates.size, nodes: nodes.size };
    },
    get live() {
      return live;
    },
    bindGate: (uid, gid) => write(gates, uid, () => locator.bindGate(uid, gid)),
    unbindGate: (uid, gid) => write(gates, uid, () => locator.unbindGate(uid, gid)),
    bindNode: (uid, name, nid) => write(nodes, uid, () => locator.bindNode(uid, name, nid)),
    unbindNode: (uid, name, nid) => write(nodes, uid, () => locator.unbindNode(uid, name, nid)),
    async locateGate(uid) {
      if (live) {
        const gid = gates.use(uid);
        if (gid !== undefined) {
          stats.hits++;
          return gid === NONE ? undefined : gid;
        }
      }
      return await fill(uid, () => locator.locateGate(uid), (gid) => gates.set(uid, gid ?? NONE));
    },
    async locateNode(uid, name) {
      const record = await loadNodes(uid);
      return Object.hasOwn(record, name) ? record[name] : undefined;
    },
    async locateNodes(uid) {
      return { ...await loadNodes(uid) };
    },
    watch: (kinds: ("gate" | "node")[], watchOptions?: LocateWatchOptions) =>
      locator.watch(kinds, watchOptions),
    async close() {
      stop.abort();
      await locator.close();
      await following;
    },
  } satisfies CachedLocator;
}

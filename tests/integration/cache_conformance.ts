/**
 * The behaviour every cache backend must show. Each backend's test file calls {@linkcode runCacheConformance};
 * a backend that cannot pass a test lists it in `skip` with the reason.
 *
 * @module
 */
import type { CacheOptions } from "../../adapters/cache/_cache.ts";
import type { Cache } from "../../adapters/cache/types.ts";
import { ClosedError } from "../../core/errors.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

/** Options of {@linkcode runCacheConformance}. */
export interface CacheConformanceOptions {
  /** Backend name used in test names ("createRedisCache()"). */
  name: string;
  /** A new cache with these options (the suite always passes a prefix unique to the test run). */
  create: (options: CacheOptions) => Promise<Cache>;
  /** Skip every test (server down). */
  ignore?: boolean;
  /** Tests this backend cannot pass, with the reason. */
  skip?: { reason: string; tests: string[] }[];
  /** The smallest expiration the backend honours, in milliseconds (memcached: 1000). @default 100 */
  ttlUnitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the cache conformance suite. */
export function runCacheConformance(options: CacheConformanceOptions): void {
  const { name, create, ignore = false, skip = [], ttlUnitMs = 100 } = options;
  const skipped = new Map<string, string>();
  for (const { reason, tests } of skip) for (const test of tests) skipped.set(test, reason);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let seq = 0;
  const prefix = () => `duetest:${run}:${++seq}`;
  /**
   * Waits past an expiration of `units` ttl units. memcached's clock ticks once a second, so an item given n s
   * may live n + 1 s plus however late that tick runs on a loaded machine: wait one unit and a half more.
   */
  const pastExpiry = (units: number) =>
    sleep(units * ttlUnitMs + Math.max(ttlUnitMs, 100) + Math.max(ttlUnitMs / 2, 50));

  function test(
    title: string,
    fn: (cache: Cache, prefix: string) => Promise<void>,
    opts: CacheOptions = {},
  ): void {
    const reason = skipped.get(title);
    if (reason) console.log(`skipped: ${name} ${title} (${reason})`);
    Deno.test({
      name: `${name} ${title}`,
      ignore: ignore || reason !== undefined,
      fn: async () => {
        const p = prefix();
        const cache = await create({ ...opts, prefix: p });
        try {
          await fn(cache, p);
        } finally {
          await cache.close();
        }
      },
    });
  }

  test("get() returns undefined and has() false for a missing key", async (cache) => {
    assertEquals(await cache.get("missing"), undefined);
    assertEquals(await cache.has("missing"), false);
  });

  test("set() stores strings as is and other values as JSON text", async (cache) => {
    await cache.set("s", "plain");
    await cache.set("o", { gold: 10, items: ["a"] });
    await cache.set("n", 42);
    assertEquals(await cache.get("s"), "plain");
    assertEquals(await cache.get("o"), '{"gold":10,"items":["a"]}');
    assertEquals(await cache.get("n"), "42");
    assertEquals(await cache.has("s"), true);
  });

  test("set() with ttlMs lets the value expire", async (cache) => {
    await cache.set("short", "v", { ttlMs: ttlUnitMs });
    await cache.set("forever", "v");
    assertEquals(await cache.get("short"), "v");
    await pastExpiry(1);
    assertEquals(await cache.get("short"), undefined);
    assertEquals(await cache.get("forever"), "v");
  });

  test("delete() removes keys and tells whether any existed", async (cache) => {
    await cache.set("a", "1");
    await cache.set("b", "2");
    assertEquals(await cache.delete("a", "b", "c"), true);
    assertEquals(await cache.get("a"), undefined);
    assertEquals(await cache.get("b"), undefined);
    assertEquals(await cache.delete("a"), false);
  });

  test("getSet() calls the loader once for concurrent callers", async (cache) => {
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(50);
      return { level: 7 };
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.getSet("profile", loader)));
    assertEquals(calls, 1);
    assertEquals(new Set(results), new Set(['{"level":7}']));
    assertEquals(await cache.get("profile"), '{"level":7}');
  });

  test("getSet() returns a stored value without calling the loader", async (cache) => {
    await cache.set("k", "stored");
    let calls = 0;
    assertEquals(await cache.getSet("k", () => (calls++, "loaded")), "stored");
    assertEquals(calls, 0);
  });

  test(
    "getSet() caches a nil value for nilExpiration",
    async (cache) => {
      let calls = 0;
      const loader = () => {
        calls++;
        return calls === 1 ? undefined : "found";
      };
      assertEquals(await cache.getSet("ghost", loader), undefined);
      assertEquals(await cache.getSet("ghost", loader), undefined);
      assertEquals(calls, 1);
      assertEquals(await cache.get("ghost"), undefined);
      assertEquals(await cache.has("ghost"), false);
      await pastExpiry(1);
      assertEquals(await cache.getSet("ghost", loader), "found");
      assertEquals(calls, 2);
    },
    { nilExpirationMs: ttlUnitMs, nilValue: "nil@test" },
  );

  test(
    "getSet() stores a loaded value with an expiration between min and max",
    async (cache) => {
      assertEquals(await cache.getSet("v", () => "x"), "x");
      assertEquals(await cache.has("v"), true);
      await pastExpiry(3);
      assertEquals(await cache.has("v"), false);
    },
    { minExpirationMs: ttlUnitMs * 2, maxExpirationMs: ttlUnitMs * 3 },
  );

  test("getSet() hands a loader error to every caller and stores nothing", async (cache) => {
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(20);
      throw new Error("database down (expected by the test)");
    };
    const outcomes = await Promise.allSettled([cache.getSet("e", failing), cache.getSet("e", failing)]);
    assertEquals(outcomes.map((o) => o.status), ["rejected", "rejected"]);
    assertEquals(calls, 1);
    assertEquals(await cache.has("e"), false);
    assertEquals(await cache.getSet("e", () => "ok"), "ok");
  });

  test("incr() and decr() count from zero", async (cache) => {
    assertEquals(await cache.incr("hits"), 1);
    assertEquals(await cache.incr("hits", 10), 11);
    assertEquals(await cache.decr("hits"), 10);
    assertEquals(await cache.decr("hits", 4), 6);
    assertEquals(await cache.get("hits"), "6");
  });

  test("decr() goes below zero", async (cache) => {
    assertEquals(await cache.decr("debt", 3), -3);
    assertEquals(await cache.incr("debt", 1), -2);
  });

  test("incr() rejects a value that is not an integer with a TypeError", async (cache) => {
    await cache.set("word", "abc");
    await assertRejects(() => cache.incr("word"), TypeError, "not an integer");
    assertEquals(await cache.get("word"), "abc");
  });

  test("keeps prefixes apart", async (cache, p) => {
    const other = await create({ prefix: `${p}:other` });
    const same = await create({ prefix: p });
    try {
      await cache.set("k", "mine");
      assertEquals(await other.get("k"), undefined);
      assertEquals(await same.get("k"), "mine");
    } finally {
      await other.close();
      await same.close();
    }
  });

  test("rejects an empty key with a TypeError", async (cache) => {
    await assertRejects(() => cache.get(""), TypeError, "'key' must be a non-empty string");
    await assertRejects(() => cache.set("", "x"), TypeError, "'key'");
    await assertRejects(() => cache.incr("n", 1.5), RangeError, "'by' must be a safe integer");
  });

  test("rejects calls after close() with a ClosedError", async (cache) => {
    await cache.close();
    await cache.close();
    const err = await assertRejects(() => cache.get("k"), ClosedError);
    assert(err.message.includes("closed"));
  });
}

import { randomExpiration } from "../../adapters/cache/_cache.ts";
import { createMemoryCache } from "../../adapters/cache/memory.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { runCacheConformance } from "../integration/cache_conformance.ts";

runCacheConformance({
  name: "createMemoryCache()",
  create: (options) => Promise.resolve(createMemoryCache(options)),
  skip: [{ reason: "each memory cache has a store of its own", tests: ["keeps prefixes apart"] }],
});

Deno.test("createMemoryCache() expires entries by the injected clock", async () => {
  let t = 1_000;
  const cache = createMemoryCache({ now: () => t });
  try {
    await cache.set("k", "v", { ttlMs: 500 });
    t += 499;
    assertEquals(await cache.get("k"), "v");
    t += 1;
    assertEquals(await cache.get("k"), undefined);
  } finally {
    await cache.close();
  }
});

Deno.test("createMemoryCache() getSet() keeps a loaded value at least minExpirationMs, at most maxExpirationMs", async () => {
  for (let run = 0; run < 20; run++) {
    let t = 1_000;
    const cache = createMemoryCache({ now: () => t, minExpirationMs: 1_000, maxExpirationMs: 2_000 });
    try {
      assertEquals(await cache.getSet("v", () => "x"), "x");
      t += 999;
      assertEquals(await cache.get("v"), "x", "expired before minExpirationMs");
      t += 1_001;
      assertEquals(await cache.get("v"), undefined, "still there at maxExpirationMs");
    } finally {
      await cache.close();
    }
  }
});

Deno.test("createMemoryCache() evicts the oldest written entry past maxEntries", async () => {
  const cache = createMemoryCache({ maxEntries: 2 });
  try {
    await cache.set("a", "1");
    await cache.set("b", "2");
    await cache.set("a", "1 again");
    await cache.set("c", "3");
    assertEquals(await cache.get("b"), undefined);
    assertEquals(await cache.get("a"), "1 again");
    assertEquals(await cache.get("c"), "3");
  } finally {
    await cache.close();
  }
});

Deno.test("createMemoryCache() rejects bad options with std-style messages", () => {
  assertThrows(
    () => createMemoryCache({ prefix: 3 as unknown as string }),
    TypeError,
    "'prefix' must be a string: current value is 3",
  );
  assertThrows(() => createMemoryCache({ nilExpirationMs: 0 }), RangeError, "'nilExpirationMs'");
  assertThrows(
    () => createMemoryCache({ minExpirationMs: 10, maxExpirationMs: 5 }),
    RangeError,
    "'maxExpirationMs'",
  );
  assertThrows(() => createMemoryCache({ maxEntries: 0 }), RangeError, "'maxEntries'");
});

Deno.test("randomExpiration() stays within [min, max] and spreads over the range", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    const ms = randomExpiration(10, 20);
    assert(ms >= 10 && ms <= 20 && Number.isInteger(ms), `${ms}`);
    seen.add(ms);
  }
  assertEquals(seen.size, 11);
});

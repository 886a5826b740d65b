import { createMemcacheCache } from "../../adapters/cache/memcache.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { runCacheConformance } from "./cache_conformance.ts";

const ignore = await skipUnless("memcached");
const addrs = [serviceAddr("memcached")];

runCacheConformance({
  name: "createMemcacheCache()",
  ignore,
  ttlUnitMs: 1_000,
  create: (options) => createMemcacheCache({ addrs, logger: silentLogger, ...options }),
  skip: [{ reason: "memcached counters are unsigned and stop at 0", tests: ["decr() goes below zero"] }],
});

Deno.test({
  name: "createMemcacheCache() decr() stops at zero as memcached counters are unsigned",
  ignore,
  fn: async () => {
    const cache = await createMemcacheCache({
      addrs,
      prefix: `duetest:${crypto.randomUUID()}`,
      logger: silentLogger,
    });
    try {
      assertEquals(await cache.decr("missing", 3), 0);
      assertEquals(await cache.incr("n", 2), 2);
      assertEquals(await cache.decr("n", 5), 0);
    } finally {
      await cache.close();
    }
  },
});

Deno.test({
  name: "createMemcacheCache() counts past 2^32 without losing bits",
  ignore,
  fn: async () => {
    const cache = await createMemcacheCache({
      addrs,
      prefix: `duetest:${crypto.randomUUID()}`,
      logger: silentLogger,
    });
    try {
      assertEquals(await cache.incr("big", 2 ** 33), 2 ** 33);
      assertEquals(await cache.incr("big", 5), 2 ** 33 + 5);
    } finally {
      await cache.close();
    }
  },
});

Deno.test({
  name: "createMemcacheCache() fails with an unavailable error naming the server when memcached is down",
  fn: async () => {
    const port = freePort();
    const err = await assertRejects(
      () => createMemcacheCache({ addrs: [`127.0.0.1:${port}`], timeoutMs: 300, logger: silentLogger }),
      DueError,
      `127.0.0.1:${port}`,
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, `127.0.0.1:${port}`);
  },
});

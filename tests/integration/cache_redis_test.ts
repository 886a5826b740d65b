import { createRedisCache } from "../../adapters/cache/redis.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { runCacheConformance } from "./cache_conformance.ts";

const ignore = await skipUnless("redis");
const addrs = [serviceAddr("redis")];

runCacheConformance({
  name: "createRedisCache()",
  ignore,
  create: (options) => createRedisCache({ addrs, logger: silentLogger, ...options }),
});

Deno.test({
  name: "createRedisCache() stores keys under <prefix>:<key> with a getSet() TTL between min and max",
  ignore,
  fn: async () => {
    const { Redis } = await import("ioredis");
    const prefix = `duetest:${crypto.randomUUID()}`;
    const cache = await createRedisCache({
      addrs,
      prefix,
      minExpirationMs: 60_000,
      maxExpirationMs: 120_000,
      logger: silentLogger,
    });
    const [host, port] = addrs[0].split(":");
    const raw = new Redis({ host, port: Number(port), lazyConnect: true });
    await raw.connect();
    try {
      await cache.getSet("player:1", () => ({ name: "ann" }));
      assertEquals(await raw.get(`${prefix}:player:1`), '{"name":"ann"}');
      const ttl = await raw.pttl(`${prefix}:player:1`);
      assert(ttl > 55_000 && ttl <= 120_000, `PTTL ${ttl}`);
      await cache.getSet("nobody", () => null);
      assertEquals(await raw.get(`${prefix}:nobody`), "cache@nil");
      const nilTtl = await raw.pttl(`${prefix}:nobody`);
      assert(nilTtl > 5_000 && nilTtl <= 10_000, `nil PTTL ${nilTtl}`);
    } finally {
      await raw.del(`${prefix}:player:1`, `${prefix}:nobody`);
      raw.disconnect();
      await cache.close();
    }
  },
});

Deno.test({
  name: "createRedisCache() fails with an unavailable error naming the server when Redis is down",
  fn: async () => {
    const err = await assertRejects(
      () => createRedisCache({ addrs: ["127.0.0.1:1"], logger: silentLogger }),
      DueError,
      "127.0.0.1:1",
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, "127.0.0.1:1");
  },
});

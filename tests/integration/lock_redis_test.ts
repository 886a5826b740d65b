import { createRedisLockMaker } from "../../adapters/lock/redis.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { checkCrashedHolderExpires, runContenders } from "./_lock_process.ts";
import { runLockConformance } from "./lock_conformance.ts";

const ignore = await skipUnless("redis");
const addrs = [serviceAddr("redis")];

runLockConformance({
  name: "createRedisLockMaker()",
  ignore,
  create: (options) => createRedisLockMaker({ addrs, logger: silentLogger, ...options }),
});

async function withRaw<T>(fn: (raw: import("ioredis").Redis) => Promise<T>): Promise<T> {
  const { Redis } = await import("ioredis");
  const [host, port] = addrs[0].split(":");
  const raw = new Redis({ host, port: Number(port), lazyConnect: true });
  await raw.connect();
  try {
    return await fn(raw);
  } finally {
    raw.disconnect();
  }
}

for (const useLock of [true, false]) {
  Deno.test({
    name: useLock
      ? "createRedisLockMaker() keeps mutual exclusion between 4 processes incrementing a Redis counter"
      : "the lock test's Redis counter loses increments when the same 4 processes skip the lock (control)",
    ignore,
    fn: async () => {
      const prefix = `duetest:lock:${crypto.randomUUID()}`;
      const redisKey = `${prefix}-counter`;
      try {
        const count = await runContenders(
          {
            driver: "redis",
            addrs,
            prefix,
            name: "counter",
            expirationMs: 3_000,
            useLock,
            counter: { redisKey, redisAddr: addrs[0] },
          },
          4,
          50,
          () => withRaw(async (raw) => Number(await raw.get(redisKey))),
        );
        if (useLock) assertEquals(count, 200);
        else {assert(
            count < 200,
            `no increment was lost without the lock (${count}): the test proves nothing`,
          );}
      } finally {
        await withRaw((raw) => raw.del(redisKey));
      }
    },
  });
}

Deno.test({
  name: "createRedisLockMaker() frees the lock of a SIGKILLed holder after its expiration",
  ignore,
  fn: async () => {
    const prefix = `duetest:lock:${crypto.randomUUID()}`;
    const expirationMs = 1_000;
    const maker = await createRedisLockMaker({
      addrs,
      prefix,
      expirationMs,
      acquireIntervalMs: 10,
      logger: silentLogger,
    });
    try {
      await checkCrashedHolderExpires(
        { driver: "redis", addrs, prefix, name: "crash", expirationMs },
        maker,
        "crash",
        expirationMs,
        500,
      );
    } finally {
      await maker.close();
    }
  },
});

Deno.test({
  name: "createRedisLockMaker() release() leaves a lock taken over by another owner alone",
  ignore,
  fn: async () => {
    const prefix = `duetest:lock:${crypto.randomUUID()}`;
    const maker = await createRedisLockMaker({ addrs, prefix, logger: silentLogger });
    try {
      const lock = maker.make("stolen");
      await lock.acquire();
      await withRaw((raw) => raw.set(`${prefix}:stolen`, "someone-else", "PX", 10_000));
      assertEquals(await lock.release(), false);
      assertEquals(await withRaw((raw) => raw.get(`${prefix}:stolen`)), "someone-else");
    } finally {
      await withRaw((raw) => raw.del(`${prefix}:stolen`));
      await maker.close();
    }
  },
});

Deno.test({
  name: "createRedisLockMaker() marks a lock lost when a renewal finds another owner",
  ignore,
  fn: async () => {
    const prefix = `duetest:lock:${crypto.randomUUID()}`;
    const maker = await createRedisLockMaker({ addrs, prefix, expirationMs: 300, logger: silentLogger });
    try {
      const lock = maker.make("taken");
      await lock.acquire();
      await withRaw((raw) => raw.set(`${prefix}:taken`, "someone-else", "PX", 10_000));
      await new Promise((r) => setTimeout(r, 250));
      assertEquals(lock.held, false);
      assertEquals(await withRaw((raw) => raw.get(`${prefix}:taken`)), "someone-else");
    } finally {
      await withRaw((raw) => raw.del(`${prefix}:taken`));
      await maker.close();
    }
  },
});

Deno.test({
  name: "createRedisLockMaker() fails with an unavailable error naming the server when Redis is down",
  fn: async () => {
    const err = await assertRejects(
      () => createRedisLockMaker({ addrs: ["127.0.0.1:1"], logger: silentLogger }),
      DueError,
      "127.0.0.1:1",
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, "127.0.0.1:1");
  },
});

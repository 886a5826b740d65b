import { createMemcacheLockMaker } from "../../adapters/lock/memcache.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { checkCrashedHolderExpires, runContenders } from "./_lock_process.ts";
import { runLockConformance } from "./lock_conformance.ts";

const ignore = await skipUnless("memcached");
const addrs = [serviceAddr("memcached")];

runLockConformance({
  name: "createMemcacheLockMaker()",
  ignore,
  expirationUnitMs: 1_000,
  create: (options) => createMemcacheLockMaker({ addrs, logger: silentLogger, ...options }),
});

for (const useLock of [true, false]) {
  Deno.test({
    name: useLock
      ? "createMemcacheLockMaker() keeps mutual exclusion between 4 processes incrementing a counter file"
      : "the lock test's counter file loses increments when the same 4 processes skip the lock (control)",
    ignore,
    fn: async () => {
      const file = await Deno.makeTempFile({ prefix: "due-lock-counter-" });
      await Deno.writeTextFile(file, "0");
      try {
        const count = await runContenders(
          {
            driver: "memcache",
            addrs,
            prefix: `duetest:lock:${crypto.randomUUID()}`,
            name: "counter",
            expirationMs: 3_000,
            useLock,
            counter: { file },
          },
          4,
          50,
          async () => Number(await Deno.readTextFile(file)),
        );
        if (useLock) assertEquals(count, 200);
        else {assert(
            count < 200,
            `no increment was lost without the lock (${count}): the test proves nothing`,
          );}
      } finally {
        await Deno.remove(file);
      }
    },
  });
}

Deno.test({
  name: "createMemcacheLockMaker() frees the lock of a SIGKILLed holder after its expiration",
  ignore,
  fn: async () => {
    const prefix = `duetest:lock:${crypto.randomUUID()}`;
    const expirationMs = 1_000;
    const maker = await createMemcacheLockMaker({
      addrs,
      prefix,
      expirationMs,
      acquireIntervalMs: 20,
      logger: silentLogger,
    });
    try {
      // The two slack seconds the backend adds, plus memcached's one-second clock: allow up to 3.5 s more.
      await checkCrashedHolderExpires(
        { driver: "memcache", addrs, prefix, name: "crash", expirationMs },
        maker,
        "crash",
        expirationMs,
        3_500,
      );
    } finally {
      await maker.close();
    }
  },
});

Deno.test({
  name: "createMemcacheLockMaker() fails with an unavailable error naming the server when memcached is down",
  fn: async () => {
    const port = freePort();
    const err = await assertRejects(
      () => createMemcacheLockMaker({ addrs: [`127.0.0.1:${port}`], timeoutMs: 300, logger: silentLogger }),
      DueError,
      `127.0.0.1:${port}`,
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, `127.0.0.1:${port}`);
  },
});

Deno.test({
  name: "createMemcacheLockMaker() release() leaves a lock taken over by another owner alone",
  ignore,
  fn: async () => {
    const { MemcacheClient } = await import("../../adapters/_memcache.ts");
    const prefix = `duetest:lock:${crypto.randomUUID()}`;
    const maker = await createMemcacheLockMaker({ addrs, prefix, logger: silentLogger });
    const raw = new MemcacheClient({ addrs }, "test", silentLogger);
    try {
      const lock = maker.make("stolen");
      await lock.acquire();
      await raw.set(`${prefix}:stolen`, "someone-else", 10_000);
      assertEquals(await lock.release(), false);
      assertEquals((await raw.get(`${prefix}:stolen`))?.value.toString(), "someone-else");
    } finally {
      await raw.delete(`${prefix}:stolen`);
      raw.close();
      await maker.close();
    }
  },
});

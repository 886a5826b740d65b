import { createMemoryLockMaker } from "../../adapters/lock/memory.ts";
import { silentLogger } from "../../core/logger.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { runLockConformance } from "../integration/lock_conformance.ts";

runLockConformance({
  name: "createMemoryLockMaker()",
  create: (options) => Promise.resolve(createMemoryLockMaker({ logger: silentLogger, ...options })),
  skip: [{
    reason: "each memory lock maker has locks of its own",
    tests: ["close() releases the locks it holds"],
  }],
});

Deno.test("createMemoryLockMaker() frees a lock whose holder stopped renewing, by the injected clock", async () => {
  let t = 0;
  const maker = createMemoryLockMaker({ now: () => t, expirationMs: 1_000, logger: silentLogger });
  try {
    const a = maker.make("m");
    const b = maker.make("m");
    assertEquals(await a.tryAcquire(), true);
    t = 999;
    assertEquals(await b.tryAcquire(), false);
    t = 1_000; // a's renewal timer (every 333 ms of real time) has not run: the lock expired
    assertEquals(await b.tryAcquire(), true);
    assertEquals(await a.release(), false, "a released b's lock");
    assertEquals(b.held, true);
  } finally {
    await maker.close();
  }
});

Deno.test("createMemoryLockMaker() rejects bad options with std-style messages", () => {
  assertThrows(() => createMemoryLockMaker({ expirationMs: 0 }), RangeError, "'expirationMs' must be >= 30");
  assertThrows(() => createMemoryLockMaker({ acquireMaxRetries: -1 }), RangeError, "'acquireMaxRetries'");
  assertThrows(() => createMemoryLockMaker({ acquireTimeoutMs: Infinity }), RangeError, "'acquireTimeoutMs'");
});

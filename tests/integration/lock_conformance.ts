/**
 * The behaviour every lock backend must show inside one process (several lock objects of one name contend).
 * Mutual exclusion across processes and crash expiry are tested per backend with child processes
 * (`lock_redis_test.ts`, `lock_memcache_test.ts`).
 *
 * @module
 */
import type { LockOptions } from "../../adapters/lock/_lock.ts";
import type { LockMaker } from "../../adapters/lock/types.ts";
import { ClosedError, TimeoutError } from "../../core/errors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";

/** Options of {@linkcode runLockConformance}. */
export interface LockConformanceOptions {
  /** Backend name used in test names ("createRedisLockMaker()"). */
  name: string;
  /** A new maker with these options (the suite passes a prefix unique to the test run). */
  create: (options: LockOptions) => Promise<LockMaker>;
  /** Skip every test (server down). */
  ignore?: boolean;
  /** Tests this backend cannot pass, with the reason. */
  skip?: { reason: string; tests: string[] }[];
  /** The smallest expiration the backend honours, in milliseconds (memcached: 1000). @default 300 */
  expirationUnitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the lock conformance suite. */
export function runLockConformance(options: LockConformanceOptions): void {
  const { name, create, ignore = false, skip = [], expirationUnitMs = 300 } = options;
  const skipped = new Map<string, string>();
  for (const { reason, tests } of skip) for (const test of tests) skipped.set(test, reason);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let seq = 0;

  function test(
    title: string,
    fn: (maker: LockMaker, prefix: string) => Promise<void>,
    opts: LockOptions = {},
  ) {
    const reason = skipped.get(title);
    if (reason) console.log(`skipped: ${name} ${title} (${reason})`);
    Deno.test({
      name: `${name} ${title}`,
      ignore: ignore || reason !== undefined,
      fn: async () => {
        const prefix = `duetest:lock:${run}:${++seq}`;
        const maker = await create({ acquireIntervalMs: 10, ...opts, prefix });
        try {
          await fn(maker, prefix);
        } finally {
          await maker.close();
        }
      },
    });
  }

  test("tryAcquire() excludes a second holder until release()", async (maker) => {
    const a = maker.make("room");
    const b = maker.make("room");
    assertEquals(await a.tryAcquire(), true);
    assertEquals(a.held, true);
    assertEquals(await b.tryAcquire(), false);
    assertEquals(b.held, false);
    assertEquals(await a.release(), true);
    assertEquals(await b.tryAcquire(), true);
    assertEquals(await a.tryAcquire(), false);
    assertEquals(await b.release(), true);
  });

  test("locks of different names do not exclude each other", async (maker) => {
    assertEquals(await maker.make("x").tryAcquire(), true);
    assertEquals(await maker.make("y").tryAcquire(), true);
  });

  test("acquire() waits until the holder releases", async (maker) => {
    const a = maker.make("queue");
    const b = maker.make("queue");
    await a.acquire();
    let acquiredAt = 0;
    const waiting = b.acquire().then(() => (acquiredAt = Date.now()));
    await sleep(100);
    assertEquals(acquiredAt, 0);
    const releasedAt = Date.now();
    await a.release();
    await waiting;
    assert(acquiredAt >= releasedAt, "acquired before the release");
    assertEquals(b.held, true);
    await b.release();
  });

  test("acquire() gives up with a TimeoutError after acquireMaxRetries retries", async (maker) => {
    await maker.make("busy").acquire();
    const started = Date.now();
    await assertRejects(() => maker.make("busy").acquire(), TimeoutError, "after 3 retries");
    const took = Date.now() - started;
    assert(took >= 25 && took < 2_000, `took ${took} ms`);
  }, { acquireMaxRetries: 3 });

  test("acquire() gives up with a TimeoutError after acquireTimeoutMs", async (maker) => {
    await maker.make("busy").acquire();
    const started = Date.now();
    await assertRejects(() => maker.make("busy").acquire(), TimeoutError, "after 150 ms");
    const took = Date.now() - started;
    assert(took >= 140 && took < 2_000, `took ${took} ms`);
  }, { acquireTimeoutMs: 150 });

  test("acquire() rejects with the reason of an aborted signal", async (maker) => {
    await maker.make("busy").acquire();
    const controller = new AbortController();
    const waiting = maker.make("busy").acquire({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error("shutting down (expected by the test)")), 50);
    await assertRejects(() => waiting, Error, "shutting down");
  });

  test("acquire() callers of one lock object each stop on their own signal", async (maker) => {
    const holder = maker.make("shared");
    await holder.acquire();
    const lock = maker.make("shared");
    const impatient = new AbortController();
    const patient = new AbortController();
    const first = lock.acquire({ signal: impatient.signal });
    const second = lock.acquire({ signal: patient.signal });
    const third = lock.acquire();
    impatient.abort(new Error("first caller gave up (expected by the test)"));
    await assertRejects(() => first, Error, "first caller gave up");
    await sleep(50);
    assertEquals(lock.held, false);
    assertEquals(await holder.release(), true);
    await second;
    await third;
    assertEquals(lock.held, true);
    assertEquals(await lock.release(), true);
  });

  test("acquire() takes nothing once every waiting caller has aborted", async (maker) => {
    const holder = maker.make("abandoned");
    await holder.acquire();
    const lock = maker.make("abandoned");
    const early = maker.make("abandoned");
    const gaveUp = AbortSignal.abort(new Error("gave up before asking (expected by the test)"));
    await assertRejects(() => early.acquire({ signal: gaveUp }), Error, "gave up before asking");
    const controllers = [new AbortController(), new AbortController()];
    const waits = controllers.map((c) => lock.acquire({ signal: c.signal }));
    for (const c of controllers) c.abort(new Error("gave up (expected by the test)"));
    for (const wait of waits) await assertRejects(() => wait, Error, "gave up");
    assertEquals(await holder.release(), true);
    await sleep(100);
    assertEquals(lock.held, false);
    assertEquals(early.held, false);
    const other = maker.make("abandoned");
    assertEquals(await other.tryAcquire(), true);
    assertEquals(await other.release(), true);
  });

  test("acquire() and tryAcquire() are idempotent while held", async (maker) => {
    const a = maker.make("same");
    await a.acquire();
    await a.acquire();
    assertEquals(await a.tryAcquire(), true);
    assertEquals(await a.release(), true);
    assertEquals(await a.release(), false);
  });

  test("keeps a held lock past its expiration by renewing it", async (maker) => {
    const a = maker.make("long");
    const b = maker.make("long");
    await a.acquire();
    const until = Date.now() + expirationUnitMs * 3;
    while (Date.now() < until) {
      assertEquals(await b.tryAcquire(), false);
      await sleep(expirationUnitMs / 4);
    }
    assertEquals(a.held, true);
    assertEquals(await a.release(), true);
    assertEquals(await b.tryAcquire(), true);
  }, { expirationMs: expirationUnitMs });

  test("close() releases the locks it holds", async (maker, prefix) => {
    await maker.make("kept").acquire();
    await maker.close();
    const other = await create({ prefix });
    try {
      assertEquals(await other.make("kept").tryAcquire(), true);
    } finally {
      await other.close();
    }
  });

  test("rejects a bad name and use after close()", async (maker) => {
    assertThrows(() => maker.make(""), TypeError, "'name' must be a non-empty string");
    const lock = maker.make("late");
    await maker.close();
    await assertRejects(() => lock.acquire(), ClosedError);
    assertThrows(() => maker.make("x"), ClosedError);
  });
}

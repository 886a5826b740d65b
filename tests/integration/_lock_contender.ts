/**
 * A child process for the lock tests. Argument: one JSON object
 * `{ driver: "redis"|"memcache", addrs, prefix, name, expirationMs, mode, iterations?, counter? }`.
 *
 * - mode "count": `iterations` times, acquire the lock, read the shared counter, yield, write counter + 1,
 *   release. The read-modify-write is deliberately not atomic: only the lock keeps increments from being lost.
 *   Every contender waits for `startAt` first so they really overlap; `useLock: false` skips the lock.
 *   The counter is a Redis key (`counter.redisKey`) or a file (`counter.file`).
 * - mode "hold": acquire, print "acquired", then hold (renewing) until killed.
 */
import { Redis } from "ioredis";
import { createMemcacheLockMaker } from "../../adapters/lock/memcache.ts";
import { createRedisLockMaker } from "../../adapters/lock/redis.ts";
import type { LockMaker } from "../../adapters/lock/types.ts";
import { silentLogger } from "../../core/logger.ts";

interface Args {
  driver: "redis" | "memcache";
  addrs: string[];
  prefix: string;
  name: string;
  expirationMs: number;
  mode: "count" | "hold";
  iterations?: number;
  /** Unix ms at which every contender starts counting, so they overlap. */
  startAt?: number;
  /** false: count without the lock (the control run that shows the counter can lose increments). */
  useLock?: boolean;
  counter?: { redisKey?: string; redisAddr?: string; file?: string };
}

const args = JSON.parse(Deno.args[0]) as Args;
const options = {
  addrs: args.addrs,
  prefix: args.prefix,
  expirationMs: args.expirationMs,
  acquireIntervalMs: 5,
  acquireTimeoutMs: 60_000,
  logger: silentLogger,
};
const maker: LockMaker = args.driver === "redis"
  ? await createRedisLockMaker(options)
  : await createMemcacheLockMaker(options);
const lock = maker.make(args.name);

if (args.mode === "hold") {
  await lock.acquire();
  console.log("acquired");
  setInterval(() => {}, 1_000); // stay alive, renewing, until SIGKILL
} else {
  const { redisKey, redisAddr, file } = args.counter ?? {};
  let redis: Redis | undefined;
  if (redisKey) {
    const [host, port] = (redisAddr ?? "127.0.0.1:6379").split(":");
    redis = new Redis({ host, port: Number(port) });
  }
  const read = async () =>
    redis ? Number(await redis.get(redisKey!) ?? 0) : Number(await Deno.readTextFile(file!));
  const write = (n: number) => redis ? redis.set(redisKey!, String(n)) : Deno.writeTextFile(file!, String(n));
  if (redis) await redis.ping();
  await new Promise((r) => setTimeout(r, Math.max(0, (args.startAt ?? 0) - Date.now())));
  const useLock = args.useLock ?? true;
  for (let i = 0; i < args.iterations!; i++) {
    if (useLock) await lock.acquire();
    try {
      const n = await read();
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      await write(n + 1);
    } finally {
      if (useLock) await lock.release();
    }
  }
  redis?.disconnect();
  await maker.close();
  console.log("done");
}

import type { Redis } from "ioredis";
import { createCachedLocator } from "../../adapters/locator/cached.ts";
import { LOCATOR_DRIVERS } from "../../adapters/locator/mod.ts";
import {
  createRedisLocator,
  DEFAULT_REDIS_LOCATOR_PREFIX,
  redisLocatorKeys,
  type RedisLocatorOptions,
  redisLocatorOptionsFromConfig,
} from "../../adapters/locator/redis.ts";
import { ClosedError, DueError } from "../../core/errors.ts";
import { createLogger, type LogRecord, silentLogger } from "../../core/logger.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { eventually, EventWatch, runLocatorConformance } from "./locator_conformance.ts";

const ignore = await skipUnless("redis");
const addrs = [serviceAddr("redis")];

async function withRaw<T>(fn: (raw: Redis) => Promise<T>): Promise<T> {
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

/** Every key under `prefix`. */
function keysUnder(prefix: string): Promise<string[]> {
  return withRaw(async (raw) => {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await raw.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
    return found.sort();
  });
}

async function cleanup(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  if (keys.length > 0) await withRaw((raw) => raw.del(...keys));
}

const uniquePrefix = () => `duetest:locate:${crypto.randomUUID().slice(0, 8)}`;

function create(prefix: string, options: RedisLocatorOptions = {}) {
  return createRedisLocator({ addrs, prefix, logger: silentLogger, ...options });
}

runLocatorConformance({ name: "createRedisLocator()", ignore, create: (p) => create(p), cleanup });

runLocatorConformance({
  name: "createCachedLocator() over redis",
  ignore,
  create: async (p) => createCachedLocator(await create(p), { logger: silentLogger }),
  cleanup,
});

/** Subscribes a plain client to both event channels of `prefix`. */
async function rawSubscriber(prefix: string) {
  const { Redis } = await import("ioredis");
  const [host, port] = addrs[0].split(":");
  const raw = new Redis({ host, port: Number(port), lazyConnect: true });
  await raw.connect();
  const messages: [string, string][] = [];
  raw.on("message", (channel: string, message: string) => messages.push([channel, message]));
  await raw.subscribe(`${prefix}:locate:cluster:gate:event`, `${prefix}:locate:cluster:node:event`);
  return { messages, close: () => raw.disconnect() };
}

Deno.test({
  name: "createRedisLocator() writes due's key layout and publishes due's events, byte for byte",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const locator = await create(prefix);
    const sub = await rawSubscriber(prefix);
    try {
      await locator.bindGate(1001, "g1");
      await locator.bindNode(1001, "game", "n1");
      await locator.bindNode(1001, "chat", "c1");
      assertEquals(await keysUnder(prefix), [
        `${prefix}:locate:user:1001:gate`,
        `${prefix}:locate:user:1001:node`,
      ]);
      await withRaw(async (raw) => {
        assertEquals(await raw.type(`${prefix}:locate:user:1001:gate`), "string");
        assertEquals(await raw.get(`${prefix}:locate:user:1001:gate`), "g1");
        assertEquals(await raw.ttl(`${prefix}:locate:user:1001:gate`), -1);
        assertEquals(await raw.type(`${prefix}:locate:user:1001:node`), "hash");
        assertEquals(await raw.hgetall(`${prefix}:locate:user:1001:node`), { game: "n1", chat: "c1" });
      });
      await locator.unbindGate(1001, "g0"); // not the bound gate: no write, no event
      await locator.unbindGate(1001, "g1");
      await locator.unbindNode(1001, "game", "n1");
      await locator.unbindNode(1001, "chat", "c1");
      assertEquals(await keysUnder(prefix), []);
      const deadline = Date.now() + 5_000;
      while (sub.messages.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const gate = `${prefix}:locate:cluster:gate:event`;
      const node = `${prefix}:locate:cluster:node:event`;
      assertEquals(sub.messages, [
        [gate, `{"uid":1001,"type":1,"insID":"g1","insKind":"gate","insName":"gate"}`],
        [node, `{"uid":1001,"type":2,"insID":"n1","insKind":"node","insName":"game"}`],
        [node, `{"uid":1001,"type":2,"insID":"c1","insKind":"node","insName":"chat"}`],
        [gate, `{"uid":1001,"type":3,"insID":"g1","insKind":"gate","insName":"gate"}`],
        [node, `{"uid":1001,"type":4,"insID":"n1","insKind":"node","insName":"game"}`],
        [node, `{"uid":1001,"type":4,"insID":"c1","insKind":"node","insName":"chat"}`],
      ]);
    } finally {
      sub.close();
      await locator.close();
      await cleanup(prefix);
    }
  },
});

Deno.test({
  name: "createRedisLocator() uses due's default prefix, which doubles the word locate",
  ignore,
  fn: async () => {
    assertEquals(DEFAULT_REDIS_LOCATOR_PREFIX, "due:locate");
    const keys = redisLocatorKeys(DEFAULT_REDIS_LOCATOR_PREFIX);
    assertEquals(keys.gate(7), "due:locate:locate:user:7:gate");
    assertEquals(keys.node(7), "due:locate:locate:user:7:node");
    assertEquals(keys.channel("gate"), "due:locate:locate:cluster:gate:event");
    const locator = await createRedisLocator({ addrs, logger: silentLogger });
    const uid = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    try {
      await locator.bindGate(uid, "duetest-gate");
      assertEquals(await withRaw((raw) => raw.get(`due:locate:locate:user:${uid}:gate`)), "duetest-gate");
    } finally {
      await locator.unbindGate(uid, "duetest-gate");
      assertEquals(await withRaw((raw) => raw.exists(`due:locate:locate:user:${uid}:gate`)), 0);
      await locator.close();
    }
  },
});

Deno.test({
  name: "createRedisLocator() reads bindings and events written by another due process",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const locator = await create(prefix);
    const watch = new EventWatch(locator, ["gate", "node"]);
    try {
      await watch.ready();
      await withRaw(async (raw) => {
        await raw.set(`${prefix}:locate:user:42:gate`, "go-gate");
        await raw.hset(`${prefix}:locate:user:42:node`, "game", "go-node");
        await raw.publish(
          `${prefix}:locate:cluster:gate:event`,
          `{"uid":42,"type":1,"insID":"go-gate","insKind":"gate","insName":"gate"}`,
        );
      });
      assertEquals(await locator.locateGate(42), "go-gate");
      assertEquals(await locator.locateNodes(42), { game: "go-node" });
      await watch.until(() => watch.events.length === 1, "the event of the other process");
      assertEquals(watch.events, [{ uid: 42, type: 1, insID: "go-gate", insKind: "gate", insName: "gate" }]);
    } finally {
      await watch.stop();
      await locator.close();
      await cleanup(prefix);
    }
  },
});

Deno.test({
  name: "createRedisLocator() skips and counts a malformed event and keeps watching",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const records: LogRecord[] = [];
    const logger = createLogger({ level: "warn", sinks: [{ write: (r) => records.push(r) }] });
    const locator = await create(prefix, { logger });
    const watch = new EventWatch(locator, ["gate"]);
    try {
      await watch.ready();
      await withRaw(async (raw) => {
        const channel = `${prefix}:locate:cluster:gate:event`;
        await raw.publish(channel, "not json");
        await raw.publish(channel, `{"uid":"1","type":1,"insID":"g","insKind":"gate","insName":"gate"}`);
        await raw.publish(channel, `{"uid":1,"type":9,"insID":"g","insKind":"gate","insName":"gate"}`);
      });
      await locator.bindGate(1, "g1");
      await watch.until(() => watch.events.length === 1, "the valid event");
      assertEquals(watch.events[0].insID, "g1");
      assertEquals(locator.stats.malformedEvents, 3);
      assertEquals(records.filter((r) => r.msg === "redis locator skipped a malformed event").length, 3);
    } finally {
      await watch.stop();
      await locator.close();
      await cleanup(prefix);
    }
  },
});

Deno.test({
  name: "createRedisLocator() shares one read between concurrent lookups but not across a write",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const locator = await create(prefix);
    try {
      await locator.bindGate(5, "g1");
      const answers = await Promise.all(Array.from({ length: 20 }, () => locator.locateGate(5)));
      assertEquals(new Set(answers), new Set(["g1"]));
      assertEquals([locator.stats.reads, locator.stats.sharedReads], [1, 19]);
      const nodes = await Promise.all([
        locator.locateNode(5, "game"),
        locator.locateNode(5, "game"),
        locator.locateNode(5, "chat"),
        locator.locateNodes(5),
        locator.locateNodes(5),
      ]);
      assertEquals(nodes, [undefined, undefined, undefined, {}, {}]);
      assertEquals([locator.stats.reads, locator.stats.sharedReads], [4, 21]);
      // A lookup made after a write does not join a read sent before it.
      const before = locator.locateGate(5);
      await locator.bindGate(5, "g2");
      const after = await locator.locateGate(5);
      assertEquals([await before, after], ["g1", "g2"]);
      assertEquals(locator.stats.reads, 6);
    } finally {
      await locator.close();
      await cleanup(prefix);
    }
  },
});

for (const cached of [false, true]) {
  Deno.test({
    name: cached
      ? "createCachedLocator() over redis drops its cache and follows events again after CLIENT KILL"
      : "createRedisLocator() watch survives CLIENT KILL of its subscriber connection",
    ignore,
    fn: async () => {
      const prefix = uniquePrefix();
      const tag = `duetest-${crypto.randomUUID().slice(0, 8)}`;
      const redis = await create(prefix, { clientName: tag });
      const locator = cached ? createCachedLocator(redis, { logger: silentLogger }) : redis;
      const writer = await create(prefix);
      const watch = new EventWatch(redis, ["gate", "node"]);
      try {
        await watch.ready();
        await writer.bindGate(1, "g1");
        await watch.until(() => watch.events.length === 1, "the first event");
        assertEquals(await locator.locateGate(1), "g1");
        const list = String(await withRaw((raw) => raw.client("LIST")));
        const line = list.split("\n").find((l) => l.includes(`name=${tag}-locate-sub`));
        assert(line, `no subscriber connection named ${tag}-locate-sub in CLIENT LIST`);
        const id = /\bid=(\d+)/.exec(line)![1];
        assertEquals(await withRaw((raw) => raw.client("KILL", "ID", id)), 1);
        await watch.until(() => watch.readyCount === 2, "onReady after the reconnect", 10_000);
        await writer.bindGate(1, "g2");
        await writer.bindNode(1, "game", "n1");
        await watch.until(() => watch.events.length === 3, "the events after the reconnect");
        assertEquals(watch.events.map((e) => e.insID), ["g1", "g2", "n1"]);
        if (cached) {
          await eventually(() => locator.locateGate(1), "g2");
          assert(
            (locator as ReturnType<typeof createCachedLocator>).stats.resets >= 2,
            "the cache was not dropped",
          );
        }
        assertEquals(await locator.locateGate(1), "g2");
        assertEquals(await locator.locateNodes(1), { game: "n1" });
        const again = String(await withRaw((raw) => raw.client("LIST")));
        assert(again.includes(`name=${tag}-locate-sub`), "the subscriber did not reconnect");
      } finally {
        await watch.stop();
        await writer.close();
        await locator.close();
        await cleanup(prefix);
      }
    },
  });
}

Deno.test({
  name: "createCachedLocator() over redis answers repeated lookups from memory and follows another process",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const inner = await create(prefix);
    const locator = createCachedLocator(inner, { logger: silentLogger });
    const writer = await create(prefix);
    const watch = new EventWatch(inner, ["gate", "node"]);
    try {
      await watch.ready();
      await eventually(() => Promise.resolve(locator.live), true);
      await writer.bindGate(1001, "g1");
      await writer.bindNode(1001, "game", "n1");
      // A lookup racing with an event for its uid is not cached: let the two events arrive first.
      await watch.until(() => watch.events.length === 2, "the two bind events");
      for (let i = 0; i < 100; i++) {
        assertEquals(await locator.locateGate(1001), "g1");
        assertEquals(await locator.locateNode(1001, "game"), "n1");
      }
      assertEquals(inner.stats.reads, 2, "more than one Redis read per map");
      assertEquals(locator.stats.hits, 198);
      await writer.bindGate(1001, "g2");
      await writer.unbindNode(1001, "game", "n1");
      await eventually(() => locator.locateGate(1001), "g2");
      await eventually(() => locator.locateNodes(1001), {});
      assertEquals(inner.stats.reads, 2, "an event made the cache read Redis again");
    } finally {
      await watch.stop();
      await writer.close();
      await locator.close();
      await cleanup(prefix);
    }
  },
});

Deno.test({
  name: "createRedisLocator() close() ends watches and later calls fail with a closed error",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const locator = await create(prefix);
    const watch = new EventWatch(locator, ["gate"]);
    await watch.ready();
    await locator.close();
    await watch.done;
    await assertRejects(() => locator.bindGate(1, "g1"), ClosedError);
    await assertRejects(() => locator.locateGate(1), ClosedError);
    const late = new EventWatch(locator, ["node"]);
    await late.done;
    assertEquals(late.ended, true);
  },
});

Deno.test("createRedisLocator() fails with an unavailable error naming the server when Redis is down", async () => {
  const err = await assertRejects(
    () => createRedisLocator({ addrs: ["127.0.0.1:1"], logger: silentLogger }),
    DueError,
    "127.0.0.1:1",
  ) as DueError;
  assertEquals(err.code, "unavailable");
  assertEquals(err.context.addr, "127.0.0.1:1");
});

Deno.test({
  name: "createRedisLocator() rejects bad arguments with std-style messages",
  ignore,
  fn: async () => {
    await assertRejects(() => createRedisLocator({ prefix: 3 as unknown as string }), TypeError, "'prefix'");
    await assertRejects(() => createRedisLocator({ db: -1 }), RangeError, "'db'");
    const locator = await create(uniquePrefix());
    try {
      await assertRejects(() => locator.bindGate(1.5, "g1"), TypeError, "'uid' must be an integer");
      await assertRejects(() => locator.bindGate(1, ""), TypeError, "'gid'");
      await assertRejects(() => locator.bindNode(1, "", "n1"), TypeError, "'name'");
      assertThrows(() => locator.watch([]), TypeError, "'kinds'");
      assertThrows(() => locator.watch(["mesh" as "gate"]), TypeError, "'kinds'");
    } finally {
      await locator.close();
    }
  },
});

Deno.test("redisLocatorOptionsFromConfig() maps the locate.redis section one to one", () => {
  const { config } = resolveConfig({
    locate: { redis: { db: 2, password: "secret", prefix: "game:locate" } },
  });
  assertEquals(redisLocatorOptionsFromConfig(config.locate.redis), {
    addrs: ["127.0.0.1:6379"],
    db: 2,
    username: undefined,
    password: "secret",
    maxRetries: 3,
    prefix: "game:locate",
  });
});

Deno.test({
  name: "LOCATOR_DRIVERS.redis builds a cached Redis locator from the locate.redis config section",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const { config } = resolveConfig({ locate: { redis: { addrs, prefix } } });
    const locator = await LOCATOR_DRIVERS.redis(config.locate.redis as unknown as Record<string, unknown>);
    try {
      assertEquals(locator.name, "cached redis");
      await locator.bindGate(1, "g1");
      assertEquals(await withRaw((raw) => raw.get(`${prefix}:locate:user:1:gate`)), "g1");
      assertEquals(await locator.locateGate(1), "g1");
    } finally {
      await locator.close();
      await cleanup(prefix);
    }
  },
});

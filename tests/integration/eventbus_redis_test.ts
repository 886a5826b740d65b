import { createRedisEventBus } from "../../adapters/eventbus/redis.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { Inbox, runEventBusConformance } from "./eventbus_conformance.ts";

const ignore = await skipUnless("redis");
const addrs = [serviceAddr("redis")];

runEventBusConformance({
  name: "createRedisEventBus()",
  ignore,
  create: (namespace) => createRedisEventBus({ addrs, prefix: namespace, logger: silentLogger }),
});

Deno.test({
  name: "createRedisEventBus() fails with an unavailable error naming the server when Redis is down",
  ignore,
  fn: async () => {
    const err = await assertRejects(
      () => createRedisEventBus({ addrs: ["127.0.0.1:1"], logger: silentLogger }),
      DueError,
      "127.0.0.1:1",
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, "127.0.0.1:1");
  },
});

Deno.test({
  name: "createRedisEventBus() resubscribes after its subscriber connection is killed",
  ignore,
  fn: async () => {
    const { Redis } = await import("ioredis");
    const tag = `duetest-${crypto.randomUUID().slice(0, 8)}`;
    const bus = await createRedisEventBus({ addrs, prefix: tag, clientName: tag, logger: silentLogger });
    const [host, port] = addrs[0].split(":");
    const admin = new Redis({ host, port: Number(port), lazyConnect: true });
    await admin.connect();
    try {
      const inbox = new Inbox();
      await bus.subscribe("restart", inbox.handler);
      await bus.publish("restart", "before");
      await inbox.waitFor(1, 5_000);

      const list = String(await admin.client("LIST"));
      const line = list.split("\n").find((l) => l.includes(`name=${tag}-eventbus-sub`));
      assert(line, `no subscriber connection named ${tag}-eventbus-sub in CLIENT LIST`);
      const id = /\bid=(\d+)/.exec(line)![1];
      assertEquals(await admin.client("KILL", "ID", id), 1);

      // Publish until the resubscribed connection sees an event (events sent during the gap are lost).
      const deadline = Date.now() + 10_000;
      while (inbox.events.length < 2 && Date.now() < deadline) {
        await bus.publish("restart", "after");
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(inbox.payloads()[0], "before");
      assertEquals(inbox.payloads().at(-1), "after");
      const again = String(await admin.client("LIST"));
      assert(again.includes(`name=${tag}-eventbus-sub`), "the subscriber did not reconnect");
      assert(!again.includes(`id=${id} `), "the killed connection is still listed");
    } finally {
      admin.disconnect();
      await bus.close();
    }
  },
});

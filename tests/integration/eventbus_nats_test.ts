import { createNatsEventBus } from "../../adapters/eventbus/nats.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort, hasCommand, spawnNatsServer, stopChild, waitForPort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { Inbox, runEventBusConformance } from "./eventbus_conformance.ts";

const ignore = await skipUnless("nats");
const addr = serviceAddr("nats");
const url = addr.includes("://") ? addr : `nats://${addr}`;

runEventBusConformance({
  name: "createNatsEventBus()",
  ignore,
  create: (namespace) => createNatsEventBus({ url, prefix: namespace, logger: silentLogger }),
});

Deno.test({
  name: "createNatsEventBus() fails with an unavailable error naming the server when NATS is down",
  fn: async () => {
    const port = freePort();
    const err = await assertRejects(
      () => createNatsEventBus({ url: `nats://127.0.0.1:${port}`, timeoutMs: 500, logger: silentLogger }),
      DueError,
      `127.0.0.1:${port}`,
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, `nats://127.0.0.1:${port}`);
  },
});

const noServerBinary = !(await hasCommand("nats-server"));
if (noServerBinary) console.log("skipped: the NATS restart test needs the nats-server binary on PATH");

Deno.test({
  name: "createNatsEventBus() keeps its subscriptions across a server restart",
  ignore: noServerBinary,
  fn: async () => {
    const port = freePort();
    const start = () => spawnNatsServer(port);
    let server = start();
    await waitForPort(port);
    const bus = await createNatsEventBus({
      url: `nats://127.0.0.1:${port}`,
      reconnectWaitMs: 100,
      logger: silentLogger,
    });
    try {
      const inbox = new Inbox();
      await bus.subscribe("restart", inbox.handler);
      await bus.publish("restart", "before");
      await inbox.waitFor(1, 5_000);

      await stopChild(server, "SIGKILL");
      server = start();
      await waitForPort(port);

      const deadline = Date.now() + 10_000;
      while (inbox.events.length < 2 && Date.now() < deadline) {
        await bus.publish("restart", "after");
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(inbox.payloads()[0], "before");
      assertEquals(inbox.payloads().at(-1), "after");
    } finally {
      await bus.close();
      await stopChild(server);
    }
  },
});

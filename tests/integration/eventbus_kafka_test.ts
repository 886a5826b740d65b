/**
 * Runs only when `DUE_TEST_KAFKA` names a broker (`host:port`): no Kafka broker can run on the development
 * machines, so the Kafka event bus is type-checked here but has not been run against a broker.
 */
import { createKafkaEventBus } from "../../adapters/eventbus/kafka.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { runEventBusConformance } from "./eventbus_conformance.ts";

const ignore = await skipUnless("kafka");

runEventBusConformance({
  name: "createKafkaEventBus()",
  ignore,
  timeoutMs: 30_000,
  create: (namespace) =>
    createKafkaEventBus({
      addrs: serviceAddr("kafka").split(","),
      prefix: namespace,
      autoCreateTopic: true,
      logger: silentLogger,
    }),
});

Deno.test("createKafkaEventBus() fails with an unavailable error naming the broker when none answers", async () => {
  const port = freePort();
  const err = await assertRejects(
    () => createKafkaEventBus({ addrs: [`127.0.0.1:${port}`], timeoutMs: 300, logger: silentLogger }),
    DueError,
    `127.0.0.1:${port}`,
  ) as DueError;
  assertEquals(err.code, "unavailable");
  assertEquals(err.context.addr, `127.0.0.1:${port}`);
});

import { createRabbitMqEventBus } from "../../adapters/eventbus/rabbitmq.ts";
import { DueError } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort, hasCommand } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { Inbox, runEventBusConformance } from "./eventbus_conformance.ts";

const ignore = await skipUnless("amqp");
const url = serviceAddr("amqp");

runEventBusConformance({
  name: "createRabbitMqEventBus()",
  ignore,
  create: (namespace) => createRabbitMqEventBus({ url, prefix: namespace, logger: silentLogger }),
});

Deno.test({
  name: "createRabbitMqEventBus() fails with an unavailable error naming the server when RabbitMQ is down",
  fn: async () => {
    const port = freePort();
    const err = await assertRejects(
      () => createRabbitMqEventBus({ url: `amqp://guest:guest@127.0.0.1:${port}`, logger: silentLogger }),
      DueError,
      `127.0.0.1:${port}`,
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assertEquals(err.context.addr, `127.0.0.1:${port}`);
  },
});

/** Runs rabbitmqctl (needs the same user as the broker, root here and in CI). */
async function rabbitmqctl(...args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("rabbitmqctl", { args }).output();
  const text = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`rabbitmqctl ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return text;
}

const noCtl = ignore || !(await hasCommand("rabbitmqctl", ["status", "--silent"]));
if (noCtl && !ignore) console.log("skipped: the RabbitMQ reconnect test needs a working rabbitmqctl");

Deno.test({
  name: "createRabbitMqEventBus() rebinds its topics after the broker closes its connection",
  ignore: noCtl,
  fn: async () => {
    const tag = `duetest-${crypto.randomUUID().slice(0, 8)}`;
    const bus = await createRabbitMqEventBus({
      url,
      prefix: tag,
      name: tag,
      reconnectDelayMs: 50,
      logger: silentLogger,
    });
    try {
      const inbox = new Inbox();
      await bus.subscribe("restart", inbox.handler);
      await bus.publish("restart", "before");
      await inbox.waitFor(1, 5_000);

      const list = await rabbitmqctl("list_connections", "--silent", "pid", "client_properties");
      const line = list.split("\n").find((l) => l.includes(`"${tag}"`));
      assert(line, `no connection named ${tag} in rabbitmqctl list_connections`);
      await rabbitmqctl("close_connection", line.split("\t")[0], "due reconnect test");

      const deadline = Date.now() + 15_000;
      while (inbox.events.length < 2 && Date.now() < deadline) {
        await bus.publish("restart", "after").catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(inbox.payloads()[0], "before");
      assertEquals(inbox.payloads().at(-1), "after");
      const again = await rabbitmqctl("list_connections", "--silent", "pid", "client_properties");
      const now = again.split("\n").find((l) => l.includes(`"${tag}"`));
      assert(now && now.split("\t")[0] !== line.split("\t")[0], "the bus did not open a new connection");
    } finally {
      await bus.close();
    }
  },
});

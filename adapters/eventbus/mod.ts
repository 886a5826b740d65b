/**
 * Event bus backends by driver name, loaded on first use so a backend's npm client is imported only when
 * chosen.
 *
 * | driver | factory | server |
 * |---|---|---|
 * | `memory` | {@linkcode createMemoryEventBus} | none (one process) |
 * | `redis` | `createRedisEventBus` | Redis pub/sub |
 * | `nats` | `createNatsEventBus` | NATS core |
 * | `rabbitmq` | `createRabbitMqEventBus` | RabbitMQ topic exchange |
 * | `kafka` | `createKafkaEventBus` | Kafka |
 *
 * @example
 * ```ts
 * import { createEventBus } from "./mod.ts";
 * const bus = await createEventBus("memory", {});
 * await bus.subscribe("login", (event) => console.log(event.payload));
 * await bus.publish("login", { uid: 1001 });
 * await bus.close();
 * ```
 *
 * @module
 */
import type { EventBus } from "./types.ts";
import type { MemoryEventBusOptions } from "./memory.ts";
import type { RedisEventBusOptions } from "./redis.ts";
import type { NatsEventBusOptions } from "./nats.ts";
import type { RabbitMqEventBusOptions } from "./rabbitmq.ts";
import type { KafkaEventBusOptions } from "./kafka.ts";

export type { Event, EventBus, EventHandler, EventPayload } from "./types.ts";
export { createMemoryEventBus, type MemoryEventBusOptions } from "./memory.ts";
export type { KafkaEventBusOptions, NatsEventBusOptions, RabbitMqEventBusOptions, RedisEventBusOptions };

/** The options of each driver. */
export interface EventBusDriverOptions {
  memory: MemoryEventBusOptions;
  redis: RedisEventBusOptions;
  nats: NatsEventBusOptions;
  rabbitmq: RabbitMqEventBusOptions;
  kafka: KafkaEventBusOptions;
}

/** A driver name of the `eventbus` config section. */
export type EventBusDriver = keyof EventBusDriverOptions;

/** Loaders of each driver's factory. */
export const EVENTBUS_DRIVERS: {
  [D in EventBusDriver]: () => Promise<(options: EventBusDriverOptions[D]) => EventBus | Promise<EventBus>>;
} = {
  memory: () => import("./memory.ts").then((m) => m.createMemoryEventBus),
  redis: () => import("./redis.ts").then((m) => m.createRedisEventBus),
  nats: () => import("./nats.ts").then((m) => m.createNatsEventBus),
  rabbitmq: () => import("./rabbitmq.ts").then((m) => m.createRabbitMqEventBus),
  kafka: () => import("./kafka.ts").then((m) => m.createKafkaEventBus),
};

/**
 * Loads the backend of `driver` and creates an event bus with `options`.
 *
 * @throws {TypeError} for an unknown driver
 */
export async function createEventBus<D extends EventBusDriver>(
  driver: D,
  options: EventBusDriverOptions[D],
): Promise<EventBus> {
  if (!Object.hasOwn(EVENTBUS_DRIVERS, driver)) {
    throw new TypeError(
      `Cannot create event bus as 'driver' must be one of ${
        Object.keys(EVENTBUS_DRIVERS).join("|")
      }: current value is "${driver}"`,
    );
  }
  const create = await EVENTBUS_DRIVERS[driver]();
  return await create(options);
}

/**
 * The Redis event bus (due's `eventbus/redis`): Redis pub/sub on channel `<prefix>:<topic>`, one connection to
 * publish and one to subscribe. After a dropped connection ioredis reconnects with a capped back-off and
 * subscribes again to every channel; events published while the subscriber was away are lost (Redis pub/sub
 * keeps nothing), as in due.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { createLogger, type Logger } from "../../core/logger.ts";
import { checkPrefix } from "../_options.ts";
import {
  closeRedis,
  connectRedisPair,
  DEFAULT_REDIS_ADDRS,
  redisCommand,
  type RedisConnectionOptions,
  validateRedisOptions,
} from "../_redis.ts";
import { checkTopic, encodeEvent, makeEvent, TopicTable } from "./_event.ts";
import type { EventBus, EventHandler, EventPayload } from "./types.ts";

/** Default channel prefix, as due's. */
export const DEFAULT_REDIS_EVENTBUS_PREFIX = "due:eventbus";

/** Options of {@linkcode createRedisEventBus}: due's `eventbus.redis` keys. */
export interface RedisEventBusOptions extends RedisConnectionOptions {
  /** Channel prefix: topic `t` travels on channel `<prefix>:t`. @default "due:eventbus" */
  prefix?: string;
  /** Where connection trouble and handler errors are logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a Redis event bus.
 *
 * @throws {DueError} `unavailable` (with `addr`) when Redis cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createRedisEventBus } from "./redis.ts";
 * const bus = await createRedisEventBus({ addrs: ["127.0.0.1:6379"] });
 * await bus.subscribe("mail", (event) => console.log(event.payload));
 * await bus.publish("mail", "hello");
 * await bus.close();
 * ```
 */
export async function createRedisEventBus(options: RedisEventBusOptions = {}): Promise<EventBus> {
  const { prefix = DEFAULT_REDIS_EVENTBUS_PREFIX, addrs = DEFAULT_REDIS_ADDRS } = options;
  const { logger = createLogger({ attrs: { component: "eventbus.redis" } }) } = options;
  validateRedisOptions(options, "redis event bus");
  checkPrefix(prefix, "redis event bus");
  const channelOf = (topic: string) => prefix === "" ? topic : `${prefix}:${topic}`;
  const topicOf = (channel: string) => prefix === "" ? channel : channel.slice(prefix.length + 1);
  const table = new TopicTable("redis event bus", logger);

  const [pub, sub] = await connectRedisPair(
    options,
    "redis event bus",
    ["eventbus-pub", "eventbus-sub"],
    logger,
  );
  sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
    table.deliverRaw(topicOf(channel.toString()), message);
  });

  async function publish(topic: string, payload: EventPayload): Promise<void> {
    checkTopic(topic, "publish event");
    table.checkOpen("publish event");
    const text = encodeEvent(makeEvent(topic, payload));
    await redisCommand(`publish event on topic "${topic}"`, addrs, () => pub.publish(channelOf(topic), text));
  }

  async function open(topic: string): Promise<void> {
    await redisCommand(`subscribe to topic "${topic}"`, addrs, () => sub.subscribe(channelOf(topic)));
  }

  async function shut(topic: string): Promise<void> {
    await redisCommand(`unsubscribe from topic "${topic}"`, addrs, () => sub.unsubscribe(channelOf(topic)));
  }

  async function close(): Promise<void> {
    if (table.closed) return;
    table.close();
    await Promise.all([closeRedis(sub), closeRedis(pub)]);
  }

  return {
    publish,
    subscribe: (topic: string, handler: EventHandler) => table.add(topic, handler, open),
    unsubscribe: (topic: string, handler?: EventHandler) => table.remove(topic, handler, shut),
    close,
  } satisfies EventBus;
}

/**
 * The Kafka event bus (due's `eventbus/kafka`), through kafkajs.
 *
 * The Kafka topic is the event topic, or `<prefix>.<topic>` when a prefix is set (':' in the prefix become
 * '.', as in due). due reads every partition directly from the newest offset, with no consumer group; kafkajs
 * has no group-less consumer, so each bus joins a consumer group of its own (`<clientId>-<uuid>`) and starts at
 * the newest offset: every process receives every event, as in due. Those groups stay on the broker (without
 * members) until its offset retention removes them.
 *
 * kafkajs cannot change the topics of a running consumer, so a subscribe or unsubscribe that changes the topic
 * set replaces the consumer (events published during the swap may be missed). `subscribe` resolves once the new
 * consumer joined its group. Broker restarts are handled by kafkajs (retries, then a consumer restart).
 *
 * Not tested here: no Kafka broker can run on the development machines (see
 * `tests/integration/eventbus_kafka_test.ts`, run when `DUE_TEST_KAFKA` is set).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { DueError, ErrorCode, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { checkAddrs, checkPrefix } from "../_options.ts";
import { checkTopic, encodeEvent, makeEvent, TopicTable } from "./_event.ts";
import type { EventBus, EventHandler, EventPayload } from "./types.ts";

/** Default brokers, as due's `eventbus.kafka.addrs`. */
export const DEFAULT_KAFKA_ADDRS: readonly string[] = ["127.0.0.1:9092"];
/** Default time allowed to connect and for one request. */
export const DEFAULT_KAFKA_TIMEOUT_MS = 5_000;
/** Default time allowed for a new consumer to join its group. */
export const DEFAULT_KAFKA_JOIN_TIMEOUT_MS = 30_000;

/** Options of {@linkcode createKafkaEventBus}: due's `eventbus.kafka` keys (`version` is not needed by kafkajs). */
export interface KafkaEventBusOptions {
  /** Broker addresses (`host:port`). @default ["127.0.0.1:9092"] */
  addrs?: readonly string[];
  /** Topic prefix; empty means the Kafka topic is the event topic. @default "" */
  prefix?: string;
  /** Create a missing topic (1 partition, replication 1) on subscribe. @default false */
  autoCreateTopic?: boolean;
  /** Client id, also the start of the consumer group id. @default "due-eventbus" */
  clientId?: string;
  /** Time allowed to connect and for one request, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** Time allowed for a consumer to join its group, in milliseconds. @default 30000 */
  joinTimeoutMs?: number;
  /** Where connection trouble and handler errors are logged (kafkajs' own warnings included). */
  logger?: Logger;
}

/**
 * Connects a Kafka event bus.
 *
 * @throws {DueError} `unavailable` (with `addr`) when no broker answers
 *
 * @example
 * ```ts ignore
 * import { createKafkaEventBus } from "./kafka.ts";
 * const bus = await createKafkaEventBus({ addrs: ["127.0.0.1:9092"], autoCreateTopic: true });
 * await bus.subscribe("mail", (event) => console.log(event.payload));
 * await bus.publish("mail", "hello");
 * await bus.close();
 * ```
 */
export async function createKafkaEventBus(options: KafkaEventBusOptions = {}): Promise<EventBus> {
  const { addrs = DEFAULT_KAFKA_ADDRS, prefix = "", autoCreateTopic = false, clientId = "due-eventbus" } =
    options;
  const { timeoutMs = DEFAULT_KAFKA_TIMEOUT_MS, joinTimeoutMs = DEFAULT_KAFKA_JOIN_TIMEOUT_MS } = options;
  const { logger = createLogger({ attrs: { component: "eventbus.kafka" } }) } = options;
  checkAddrs(addrs, "kafka event bus");
  checkPrefix(prefix, "kafka event bus");
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot create kafka event bus as 'timeoutMs' must be > 0: current value is ${timeoutMs}`,
    );
  }
  if (!(joinTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot create kafka event bus as 'joinTimeoutMs' must be > 0: current value is ${joinTimeoutMs}`,
    );
  }
  const addr = addrs.join(",");
  const topicPrefix = prefix === "" ? "" : `${prefix.replaceAll(":", ".")}.`;
  const table = new TopicTable("kafka event bus", logger);
  const fail = (action: string, err: unknown) =>
    new DueError(ErrorCode.Unavailable, `Cannot ${action} on kafka at ${addr}: ${errorMessage(err)}`, {
      addr,
      cause: err,
    });

  const kafka = new Kafka({
    clientId,
    brokers: [...addrs],
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { initialRetryTime: 100, retries: 5 },
    logCreator: () => ({ level, log }) => {
      if (level === logLevel.ERROR || level === logLevel.WARN) {
        logger.warn("kafkajs", { addr, message: log.message });
      }
    },
  });
  const producer: Producer = kafka.producer();
  try {
    await producer.connect();
  } catch (err) {
    await producer.disconnect().catch(() => {});
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot connect kafka event bus to ${addr}: ${errorMessage(err)}`,
      {
        addr,
        cause: err,
      },
    );
  }
  let admin: Admin | undefined;
  let consumer: Consumer | undefined;

  async function publish(topic: string, payload: EventPayload): Promise<void> {
    checkTopic(topic, "publish event");
    table.checkOpen("publish event");
    const value = Buffer.from(encodeEvent(makeEvent(topic, payload)));
    try {
      await producer.send({ topic: topicPrefix + topic, messages: [{ value }] });
    } catch (err) {
      throw fail(`publish event on topic "${topic}"`, err);
    }
  }

  /** Replaces the consumer by one that reads the current topic set, and waits until it joined its group. */
  async function rebuild(): Promise<void> {
    const old = consumer;
    consumer = undefined;
    if (old) {
      await old.disconnect().catch((err) =>
        logger.warn("kafka consumer disconnect failed", { error: errorMessage(err) })
      );
    }
    const topics = table.topics();
    if (topics.length === 0) return;
    const next = kafka.consumer({ groupId: `${clientId}-${crypto.randomUUID()}` });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await next.connect();
      await next.subscribe({ topics: topics.map((t) => topicPrefix + t), fromBeginning: false });
      const joined = new Promise<void>((resolve, reject) => {
        const off = next.on(next.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
        timer = setTimeout(() => {
          off();
          reject(new Error(`the consumer did not join its group within ${joinTimeoutMs} ms`));
        }, joinTimeoutMs);
      });
      next.on(next.events.CRASH, (event) => {
        logger.warn("kafka consumer crashed", { addr, error: errorMessage(event.payload.error) });
      });
      await next.run({
        eachMessage: ({ topic, message }) => {
          if (message.value) table.deliverRaw(topic.slice(topicPrefix.length), message.value);
          return Promise.resolve();
        },
      });
      await joined;
      consumer = next;
    } catch (err) {
      await next.disconnect().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function open(topic: string): Promise<void> {
    try {
      if (autoCreateTopic) {
        admin ??= kafka.admin();
        await admin.connect();
        await admin.createTopics({
          topics: [{ topic: topicPrefix + topic, numPartitions: 1, replicationFactor: 1 }],
        });
      }
      await rebuild();
    } catch (err) {
      throw fail(`subscribe to topic "${topic}"`, err);
    }
  }

  async function shut(topic: string): Promise<void> {
    try {
      await rebuild();
    } catch (err) {
      throw fail(`unsubscribe from topic "${topic}"`, err);
    }
  }

  async function close(): Promise<void> {
    if (table.closed) return;
    table.close();
    // Let a rebuild under way finish before tearing down its consumer.
    await table.serial(async () => {
      await consumer?.disconnect().catch(() => {});
      await admin?.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
    });
  }

  return {
    publish,
    subscribe: (topic: string, handler: EventHandler) => table.add(topic, handler, open),
    unsubscribe: (topic: string, handler?: EventHandler) => table.remove(topic, handler, shut),
    close,
  } satisfies EventBus;
}

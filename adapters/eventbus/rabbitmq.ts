/**
 * The RabbitMQ event bus (AMQP 0-9-1 through amqplib). due's README lists RabbitMQ but due never shipped it;
 * this backend is ours.
 *
 * Layout: one topic exchange named after `prefix` (default `due.eventbus`, not durable, so it vanishes with the
 * broker's state); each bus owns one exclusive, auto-deleted, server-named queue bound with the routing key
 * `<topic>` for every subscribed topic; messages are published with that routing key and consumed without acks
 * (fire-and-forget pub/sub, as the other backends). Topic names are AMQP routing keys: `.` separates words and
 * `*` / `#` in a subscribed topic act as wildcards.
 *
 * When the connection drops (broker restart, `rabbitmqctl close_connection`, network), the bus reconnects with a
 * capped exponential back-off and declares its queue and bindings again. `publish` during an outage waits for
 * the connection up to `timeoutMs`, then fails with `unavailable`. Events published while the bus was away are
 * lost, as with Redis and NATS.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { DueError, ErrorCode, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { checkTopic, encodeEvent, makeEvent, TopicTable } from "./_event.ts";
import type { EventBus, EventHandler, EventPayload } from "./types.ts";

/** Default broker URL. */
export const DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672";
/** Default exchange name. */
export const DEFAULT_RABBITMQ_EVENTBUS_PREFIX = "due.eventbus";
/** Default time allowed to connect, and for `publish` to wait for a connection. */
export const DEFAULT_RABBITMQ_TIMEOUT_MS = 5_000;
/** First pause before reconnecting; doubled up to {@linkcode RABBITMQ_MAX_RECONNECT_DELAY_MS}. */
export const DEFAULT_RABBITMQ_RECONNECT_DELAY_MS = 200;
/** Longest pause between two reconnect attempts. */
export const RABBITMQ_MAX_RECONNECT_DELAY_MS = 5_000;

/** Options of {@linkcode createRabbitMqEventBus}. */
export interface RabbitMqEventBusOptions {
  /** Broker URL (`amqp://user:pass@host:port/vhost`). @default "amqp://guest:guest@127.0.0.1:5672" */
  url?: string;
  /** Exchange name (':' become '.'). @default "due.eventbus" */
  prefix?: string;
  /** Time allowed to connect, and for `publish` to wait during an outage, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** First pause before a reconnect, in milliseconds; doubles up to 5000. @default 200 */
  reconnectDelayMs?: number;
  /** Connection name shown by `rabbitmqctl list_connections client_properties`. @default "due-eventbus" */
  name?: string;
  /** Where connection trouble and handler errors are logged. @default a console logger */
  logger?: Logger;
}

interface Session {
  model: amqp.ChannelModel;
  channel: amqp.Channel;
  queue: string;
}

/** The URL with its password hidden, for messages. */
function safeAddr(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5672}`;
  } catch {
    return url;
  }
}

/**
 * Connects a RabbitMQ event bus.
 *
 * @throws {DueError} `unavailable` (with `addr` = host:port) when the broker cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createRabbitMqEventBus } from "./rabbitmq.ts";
 * const bus = await createRabbitMqEventBus({ url: "amqp://guest:guest@127.0.0.1:5672" });
 * await bus.subscribe("mail", (event) => console.log(event.payload));
 * await bus.publish("mail", "hello");
 * await bus.close();
 * ```
 */
export async function createRabbitMqEventBus(options: RabbitMqEventBusOptions = {}): Promise<EventBus> {
  const { url = DEFAULT_RABBITMQ_URL, prefix = DEFAULT_RABBITMQ_EVENTBUS_PREFIX } = options;
  const { timeoutMs = DEFAULT_RABBITMQ_TIMEOUT_MS, reconnectDelayMs = DEFAULT_RABBITMQ_RECONNECT_DELAY_MS } =
    options;
  const { name = "due-eventbus", logger = createLogger({ attrs: { component: "eventbus.rabbitmq" } }) } =
    options;
  if (typeof url !== "string" || url === "") {
    throw new TypeError(
      `Cannot create rabbitmq event bus as 'url' must be a non-empty string: current value is ${url}`,
    );
  }
  if (typeof prefix !== "string" || prefix === "") {
    throw new TypeError(
      `Cannot create rabbitmq event bus as 'prefix' must be a non-empty string: current value is ${prefix}`,
    );
  }
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot create rabbitmq event bus as 'timeoutMs' must be > 0: current value is ${timeoutMs}`,
    );
  }
  if (!(reconnectDelayMs > 0)) {
    throw new RangeError(
      `Cannot create rabbitmq event bus as 'reconnectDelayMs' must be > 0: current value is ${reconnectDelayMs}`,
    );
  }
  const addr = safeAddr(url);
  const exchange = prefix.replaceAll(":", ".");
  const table = new TopicTable("rabbitmq event bus", logger);

  let session: Session | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  /** Callers of `publish` waiting for a session during an outage. */
  const waiters = new Set<() => void>();

  async function openSession(): Promise<Session> {
    const model = await amqp.connect(url, {
      timeout: timeoutMs,
      clientProperties: { connection_name: name },
    });
    try {
      const channel = await model.createChannel();
      await channel.assertExchange(exchange, "topic", { durable: false });
      const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
      for (const topic of table.topics()) await channel.bindQueue(queue, exchange, topic);
      await channel.consume(queue, (msg) => {
        if (msg) table.deliverRaw(msg.fields.routingKey, msg.content);
      }, { noAck: true });
      const next = { model, channel, queue };
      model.on(
        "error",
        (err: Error) => logger.warn("rabbitmq connection error", { addr, error: err.message }),
      );
      model.on("close", () => lost(next));
      channel.on(
        "error",
        (err: Error) => logger.warn("rabbitmq channel error", { addr, error: err.message }),
      );
      // A channel closed by the broker (e.g. a failed declare) is useless: drop the whole connection.
      channel.on("close", () => {
        if (session === next) model.close().catch(() => {});
      });
      return next;
    } catch (err) {
      await model.close().catch(() => {});
      throw err;
    }
  }

  function lost(which: Session): void {
    if (session !== which) return;
    session = undefined;
    if (table.closed) return;
    logger.warn("rabbitmq disconnected", { addr });
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    const delay = Math.min(reconnectDelayMs * 2 ** attempt, RABBITMQ_MAX_RECONNECT_DELAY_MS);
    attempt++;
    reconnectTimer = setTimeout(reconnect, delay);
  }

  async function reconnect(): Promise<void> {
    reconnectTimer = undefined;
    if (table.closed) return;
    try {
      // Subscribe/unsubscribe wait while the queue and its bindings are declared again, so no topic added
      // meanwhile can miss its binding.
      await table.serial(async () => {
        const next = await openSession();
        if (table.closed) {
          await next.model.close().catch(() => {});
          return;
        }
        session = next;
        attempt = 0;
        logger.info("rabbitmq reconnected", { addr, topics: table.topics().length });
        for (const wake of waiters) wake();
      });
    } catch (err) {
      logger.warn("rabbitmq reconnect failed", { addr, attempt, error: errorMessage(err) });
      scheduleReconnect();
    }
  }

  try {
    session = await openSession();
  } catch (err) {
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot connect rabbitmq event bus to ${addr}: ${errorMessage(err)}`,
      { addr, cause: err },
    );
  }

  /** The live session, waiting up to `timeoutMs` during an outage. */
  async function live(action: string): Promise<Session> {
    if (session) return session;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        waiters.add(resolve);
        timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      });
    } catch (err) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot ${action} on rabbitmq at ${addr}: ${errorMessage(err)}`,
        {
          addr,
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
      if (wake) waiters.delete(wake);
    }
    table.checkOpen(action);
    if (!session) {
      throw new DueError(ErrorCode.Unavailable, `Cannot ${action} on rabbitmq at ${addr}: disconnected`, {
        addr,
      });
    }
    return session;
  }

  async function publish(topic: string, payload: EventPayload): Promise<void> {
    checkTopic(topic, "publish event");
    table.checkOpen("publish event");
    const content = Buffer.from(encodeEvent(makeEvent(topic, payload)));
    const { channel } = await live(`publish event on topic "${topic}"`);
    try {
      channel.publish(exchange, topic, content, { contentType: "application/json" });
    } catch (err) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot publish event on topic "${topic}" to rabbitmq at ${addr}: ${errorMessage(err)}`,
        { addr, cause: err },
      );
    }
  }

  async function open(topic: string): Promise<void> {
    // Without a session the binding is made by the reconnect, which reads the topic table.
    if (!session) return;
    try {
      await session.channel.bindQueue(session.queue, exchange, topic);
    } catch (err) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot subscribe to topic "${topic}" on rabbitmq at ${addr}: ${errorMessage(err)}`,
        { addr, cause: err },
      );
    }
  }

  async function shut(topic: string): Promise<void> {
    if (!session) return;
    try {
      await session.channel.unbindQueue(session.queue, exchange, topic);
    } catch (err) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot unsubscribe from topic "${topic}" on rabbitmq at ${addr}: ${errorMessage(err)}`,
        { addr, cause: err },
      );
    }
  }

  async function close(): Promise<void> {
    if (table.closed) return;
    table.close();
    clearTimeout(reconnectTimer);
    for (const wake of waiters) wake();
    const current = session;
    session = undefined;
    if (current) await current.model.close().catch(() => {});
  }

  return {
    publish,
    subscribe: (topic: string, handler: EventHandler) => table.add(topic, handler, open),
    unsubscribe: (topic: string, handler?: EventHandler) => table.remove(topic, handler, shut),
    close,
  } satisfies EventBus;
}

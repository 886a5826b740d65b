/**
 * The NATS event bus (due's `eventbus/nats`): core NATS publish/subscribe (no JetStream), one connection.
 * The subject is the topic, or `<prefix>.<topic>` when a prefix is set (':' in the prefix become '.', as due
 * does for Kafka). nats.js reconnects for ever with a capped wait and re-sends every subscription; events
 * published while this process was disconnected are lost (core NATS keeps nothing), events it publishes while
 * reconnecting are buffered by nats.js and sent once connected.
 *
 * @module
 */
import type { Subscription } from "@nats-io/transport-node";
import { DueError, ErrorCode, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { connectNats, natsServers, watchNatsStatus } from "../_nats.ts";
import { checkPrefix } from "../_options.ts";
import { checkTopic, encodeEvent, makeEvent, TopicTable } from "./_event.ts";
import type { EventBus, EventHandler, EventPayload } from "./types.ts";

/** Default server, as due's `eventbus.nats.url`. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Default connect timeout, as due's `eventbus.nats.timeout`. */
export const DEFAULT_NATS_TIMEOUT_MS = 2_000;
/** Default wait between two reconnect attempts to one server. */
export const DEFAULT_NATS_RECONNECT_WAIT_MS = 1_000;

/** Options of {@linkcode createNatsEventBus}: due's `eventbus.nats` keys. */
export interface NatsEventBusOptions {
  /** Server URL(s). @default "nats://127.0.0.1:4222" */
  url?: string | readonly string[];
  /** Time allowed for the first connection, in milliseconds. @default 2000 */
  timeoutMs?: number;
  /** Subject prefix; empty means the subject is the topic itself, as in due. @default "" */
  prefix?: string;
  /** Wait between reconnect attempts, in milliseconds. @default 1000 */
  reconnectWaitMs?: number;
  /** Connection name shown by the server's monitoring. @default "due-eventbus" */
  name?: string;
  /** Where connection trouble and handler errors are logged. @default a console logger */
  logger?: Logger;
}

/**
 * Connects a NATS event bus.
 *
 * @throws {DueError} `unavailable` (with `addr`) when no server answers within `timeoutMs`
 *
 * @example
 * ```ts ignore
 * import { createNatsEventBus } from "./nats.ts";
 * const bus = await createNatsEventBus({ url: "nats://127.0.0.1:4222" });
 * await bus.subscribe("mail", (event) => console.log(event.payload));
 * await bus.publish("mail", "hello");
 * await bus.close();
 * ```
 */
export async function createNatsEventBus(options: NatsEventBusOptions = {}): Promise<EventBus> {
  const { url = DEFAULT_NATS_URL, timeoutMs = DEFAULT_NATS_TIMEOUT_MS, prefix = "" } = options;
  const { reconnectWaitMs = DEFAULT_NATS_RECONNECT_WAIT_MS, name = "due-eventbus" } = options;
  const { logger = createLogger({ attrs: { component: "eventbus.nats" } }) } = options;
  const servers = natsServers(url, "nats event bus");
  if (!(timeoutMs > 0)) {
    throw new RangeError(
      `Cannot create nats event bus as 'timeoutMs' must be > 0: current value is ${timeoutMs}`,
    );
  }
  if (!(reconnectWaitMs > 0)) {
    throw new RangeError(
      `Cannot create nats event bus as 'reconnectWaitMs' must be > 0: current value is ${reconnectWaitMs}`,
    );
  }
  checkPrefix(prefix, "nats event bus");
  const addr = servers.join(",");
  const subjectPrefix = prefix === "" ? "" : `${prefix.replaceAll(":", ".")}.`;
  const table = new TopicTable("nats event bus", logger);
  const subs = new Map<string, Subscription>();
  const encoder = new TextEncoder();

  const nc = await connectNats(servers, "nats event bus", { timeoutMs, reconnectWaitMs, name });
  const watching = watchNatsStatus(nc, logger, addr);

  async function publish(topic: string, payload: EventPayload): Promise<void> {
    checkTopic(topic, "publish event");
    table.checkOpen("publish event");
    const data = encoder.encode(encodeEvent(makeEvent(topic, payload)));
    try {
      nc.publish(subjectPrefix + topic, data);
    } catch (err) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot publish event on topic "${topic}" to nats at ${addr}: ${errorMessage(err)}`,
        { addr, cause: err },
      );
    }
    await Promise.resolve();
  }

  async function open(topic: string): Promise<void> {
    const sub = nc.subscribe(subjectPrefix + topic, {
      callback: (err, msg) => {
        if (err) logger.warn("nats subscription error", { topic, error: err.message });
        else table.deliverRaw(topic, msg.data);
      },
    });
    subs.set(topic, sub);
    try {
      // The server knows the subscription once it answered a PING sent after the SUB.
      await nc.flush();
    } catch (err) {
      sub.unsubscribe();
      subs.delete(topic);
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot subscribe to topic "${topic}" on nats at ${addr}: ${errorMessage(err)}`,
        { addr, cause: err },
      );
    }
  }

  // deno-lint-ignore require-await
  async function shut(topic: string): Promise<void> {
    subs.get(topic)?.unsubscribe();
    subs.delete(topic);
  }

  async function close(): Promise<void> {
    if (table.closed) return;
    table.close();
    subs.clear();
    await nc.close();
    await watching;
  }

  return {
    publish,
    subscribe: (topic: string, handler: EventHandler) => table.add(topic, handler, open),
    unsubscribe: (topic: string, handler?: EventHandler) => table.remove(topic, handler, shut),
    close,
  } satisfies EventBus;
}

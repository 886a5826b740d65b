/**
 * The in-process event bus (due's `eventbus/process`): events reach the subscribers of this bus object only.
 * For `due dev`, tests and single-process games.
 *
 * @module
 */
import { createLogger, type Logger } from "../../core/logger.ts";
import { checkTopic, makeEvent, TopicTable } from "./_event.ts";
import type { EventBus, EventHandler, EventPayload } from "./types.ts";

/** Options of {@linkcode createMemoryEventBus}. */
export interface MemoryEventBusOptions {
  /** Where handler errors are logged. @default a console logger */
  logger?: Logger;
}

/**
 * Creates an in-process event bus. Handlers run in a later microtask than `publish`, never inside it.
 *
 * @example Publish and receive
 * ```ts
 * import { createMemoryEventBus } from "./memory.ts";
 * const bus = createMemoryEventBus();
 * await bus.subscribe("login", (event) => console.log(event.payload));
 * await bus.publish("login", { uid: 1001 });
 * await bus.close();
 * ```
 */
export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  const { logger = createLogger({ attrs: { component: "eventbus.memory" } }) } = options;
  const table = new TopicTable("memory event bus", logger);
  const noop = () => Promise.resolve();

  // deno-lint-ignore require-await
  async function publish(topic: string, payload: EventPayload): Promise<void> {
    checkTopic(topic, "publish event");
    table.checkOpen("publish event");
    const event = makeEvent(topic, payload);
    queueMicrotask(() => table.deliver(topic, event));
  }

  return {
    publish,
    subscribe: (topic: string, handler: EventHandler) => table.add(topic, handler, noop),
    unsubscribe: (topic: string, handler?: EventHandler) => table.remove(topic, handler, noop),
    close: () => {
      table.close();
      return Promise.resolve();
    },
  } satisfies EventBus;
}

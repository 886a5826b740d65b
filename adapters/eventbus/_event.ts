/**
 * Private to `adapters/eventbus/`: the wire envelope and the per-topic handler table every backend shares.
 *
 * @module
 */
import { ClosedError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { Event, EventHandler, EventPayload } from "./types.ts";

const decoder = new TextDecoder();

/** Throws a `TypeError` unless `topic` is a non-empty string. */
export function checkTopic(topic: unknown, action: string): asserts topic is string {
  if (typeof topic !== "string" || topic === "") {
    throw new TypeError(`Cannot ${action} as 'topic' must be a non-empty string: current value is ${topic}`);
  }
}

/** The payload as the string that goes on the wire. */
export function payloadText(payload: EventPayload): string {
  if (typeof payload === "string") return payload;
  if (payload instanceof Uint8Array) return decoder.decode(payload);
  const text = JSON.stringify(payload);
  if (typeof text !== "string") {
    throw new TypeError(`Cannot publish event as 'payload' has no JSON form: current value is ${payload}`);
  }
  return text;
}

/** A new event for `topic`, stamped now. */
export function makeEvent(topic: string, payload: EventPayload): Event {
  return { id: crypto.randomUUID(), topic, payload: payloadText(payload), timestamp: Date.now() * 1_000_000 };
}

/**
 * The JSON envelope of PROTOCOL.md §3, fields in due's order:
 * `{"id":"…","topic":"…","payload":"…","timestamp":1732512345678000000}`.
 */
export function encodeEvent(event: Event): string {
  // JSON.stringify prints integers below 1e21 without an exponent, so the timestamp stays a plain integer.
  return `{"id":${JSON.stringify(event.id)},"topic":${JSON.stringify(event.topic)},"payload":${
    JSON.stringify(event.payload)
  },"timestamp":${Math.trunc(event.timestamp)}}`;
}

/** Decodes an envelope; `undefined` when it is not one. A non-string payload is kept as its JSON text. */
export function decodeEvent(data: string | Uint8Array): Event | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : decoder.decode(data));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { id, topic, payload, timestamp } = value as Record<string, unknown>;
  if (typeof id !== "string" || typeof topic !== "string" || typeof timestamp !== "number") return undefined;
  if (payload === undefined) return undefined;
  return { id, topic, payload: typeof payload === "string" ? payload : JSON.stringify(payload), timestamp };
}

/**
 * The handlers of each topic plus a queue that runs subscribe/unsubscribe one at a time, so the broker-side
 * subscription of a topic exists exactly while the topic has handlers.
 */
export class TopicTable {
  #handlers = new Map<string, Set<EventHandler>>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #what: string;
  #log: Logger;
  /** Events that arrived but could not be decoded. */
  malformed = 0;
  /** Handler calls that threw or rejected. */
  handlerErrors = 0;

  constructor(what: string, log: Logger) {
    this.#what = what;
    this.#log = log;
  }

  /** Whether {@linkcode TopicTable.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The topics that have handlers. */
  topics(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Throws a {@linkcode ClosedError} after close. */
  checkOpen(action: string): void {
    if (this.#closed) throw new ClosedError(`Cannot ${action} as the ${this.#what} is closed`);
  }

  /** Runs `fn` after every earlier queued operation. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Adds a handler; calls `open(topic)` first when the topic had none. */
  async add(topic: string, handler: EventHandler, open: (topic: string) => Promise<void>): Promise<void> {
    checkTopic(topic, `subscribe on ${this.#what}`);
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot subscribe on ${this.#what} as 'handler' must be a function: current value is ${handler}`,
      );
    }
    this.checkOpen("subscribe");
    await this.serial(async () => {
      this.checkOpen("subscribe");
      const set = this.#handlers.get(topic);
      if (set) {
        set.add(handler);
        return;
      }
      this.#handlers.set(topic, new Set([handler]));
      try {
        await open(topic);
      } catch (err) {
        this.#handlers.delete(topic);
        throw err;
      }
    });
  }

  /** Removes one handler or all; calls `shut(topic)` when the topic has none left. */
  async remove(
    topic: string,
    handler: EventHandler | undefined,
    shut: (topic: string) => Promise<void>,
  ): Promise<void> {
    checkTopic(topic, `unsubscribe on ${this.#what}`);
    await this.serial(async () => {
      if (this.#closed) return;
      const set = this.#handlers.get(topic);
      if (!set) return;
      if (handler !== undefined) set.delete(handler);
      if (handler !== undefined && set.size > 0) return;
      this.#handlers.delete(topic);
      await shut(topic);
    });
  }

  /** Marks the table closed and forgets every handler. */
  close(): void {
    this.#closed = true;
    this.#handlers.clear();
  }

  /** Decodes raw bytes from the broker and delivers them to the handlers of `topic`. */
  deliverRaw(topic: string, data: string | Uint8Array): void {
    const event = decodeEvent(data);
    if (event === undefined) {
      this.malformed++;
      this.#log.warn("event bus dropped a malformed message", { topic, count: this.malformed });
      return;
    }
    this.deliver(topic, event);
  }

  /** Calls every handler of `topic` with `event`; errors are logged and counted. */
  deliver(topic: string, event: Event): void {
    const set = this.#handlers.get(topic);
    if (!set) return;
    for (const handler of set) {
      try {
        const result = handler(event);
        if (result instanceof Promise) result.catch((err) => this.#handlerFailed(topic, err));
      } catch (err) {
        this.#handlerFailed(topic, err);
      }
    }
  }

  #handlerFailed(topic: string, err: unknown): void {
    this.handlerErrors++;
    this.#log.error("event handler failed", { topic, error: errorMessage(err), count: this.handlerErrors });
  }
}

/**
 * The event bus: application-level publish/subscribe between the processes of a cluster (due's `eventbus`).
 * The framework core does not use it; games use it for cross-node notifications.
 *
 * Every backend carries the JSON envelope of PROTOCOL.md §3:
 * `{"id": uuid, "topic": string, "payload": string, "timestamp": unix nanoseconds}`.
 *
 * @module
 */

/** One event as a handler receives it (the decoded envelope). */
export interface Event {
  /** A UUID chosen by the publisher. */
  id: string;
  /** The topic it was published on (without the backend's prefix). */
  topic: string;
  /** The payload, always a string on the wire (JSON text when a non-string value was published). */
  payload: string;
  /**
   * When it was published, in nanoseconds since the Unix epoch, as on the wire. A JS number holds it to about
   * 0.25 µs, which is finer than the millisecond clock the publisher reads.
   */
  timestamp: number;
}

/**
 * Called for each event of a subscribed topic. A thrown error or rejected promise is logged; it never stops
 * the delivery to other handlers. Handlers of one topic are called in subscription order; an async handler is
 * not awaited before the next event is delivered.
 */
export type EventHandler = (event: Event) => void | Promise<void>;

/**
 * What can be published: a string is sent as is, a `Uint8Array` as its UTF-8 text, anything else as its JSON
 * text (`JSON.stringify`), so `{ "gold": 10 }` arrives as the payload string `{"gold":10}`.
 */
export type EventPayload = string | Uint8Array | number | boolean | null | object;

/** An event bus connection. */
export interface EventBus {
  /**
   * Publishes `payload` on `topic` to every subscriber in the cluster, this process included.
   *
   * @throws {TypeError} when the topic is empty or the payload cannot be serialised
   * @throws {DueError} `unavailable` when the broker cannot take it, `closed` after {@linkcode EventBus.close}
   */
  publish(topic: string, payload: EventPayload): Promise<void>;
  /**
   * Adds `handler` for `topic`. Resolves once the broker delivers the topic to this process. Adding the same
   * handler twice to one topic is a no-op. Subscriptions survive reconnects.
   */
  subscribe(topic: string, handler: EventHandler): Promise<void>;
  /** Removes `handler` from `topic`, or every handler of `topic` when `handler` is omitted. */
  unsubscribe(topic: string, handler?: EventHandler): Promise<void>;
  /** Drops every subscription and releases every connection and timer. Idempotent. */
  close(): Promise<void>;
}

/**
 * Private to the registry backends that keep their instances alive by beating each one (Consul's TTL check,
 * Nacos's instance beat): rounds of one beat per registered instance, the next round a delay after the last one
 * ended, and one warning per outage (not per instance and round) with a line when it is over.
 *
 * @module
 */
import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";

/** What {@linkcode HeartbeatRounds} needs from its registry. */
export interface HeartbeatOptions<E> {
  /** The backend, for log lines (`consul`). */
  backend: string;
  /** The server, for log lines. */
  addr: string;
  log: Logger;
  /** The registered instances by key: each round beats every one. */
  registered: ReadonlyMap<string, E>;
  /** Beats one instance (and registers it again when the server forgot it); rejects when it could not. */
  beat(key: string, entry: E): Promise<void>;
  /** What a failure's log line says about the instance. */
  describe(key: string, entry: E): Record<string, unknown>;
  /** The wait between the end of a round and the next one, read at each scheduling. */
  delayMs(): number;
  /** Whether the registry is closed (no more rounds; failures then are not news). */
  closed(): boolean;
  /** Receives each round's task, so that the registry's `close()` can wait for it. */
  track(task: Promise<void>): void;
}

/** Heartbeat rounds of one registry. */
export class HeartbeatRounds<E> {
  readonly #o: HeartbeatOptions<E>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failing = false;

  /** Creates the rounds; none runs until {@linkcode HeartbeatRounds.schedule}. */
  constructor(options: HeartbeatOptions<E>) {
    this.#o = options;
  }

  /** Schedules the next round unless one is pending, nothing is registered or the registry is closed. */
  schedule(now = false): void {
    const o = this.#o;
    if (o.closed() || this.#timer !== undefined || o.registered.size === 0) return;
    this.#timer = setTimeout(() => {
      const round = this.#round();
      o.track(round);
      round.finally(() => {
        this.#timer = undefined;
        this.schedule();
      });
    }, now ? 0 : o.delayMs());
  }

  /** Cancels the pending round (the registry is closing). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #round(): Promise<void> {
    const o = this.#o;
    let failed = 0;
    await Promise.all([...o.registered].map(async ([key, entry]) => {
      try {
        await o.beat(key, entry);
      } catch (err) {
        if (o.closed()) return;
        failed++;
        if (!this.#failing) {
          o.log.warn(`${o.backend} heartbeat failed`, {
            addr: o.addr,
            ...o.describe(key, entry),
            error: errorMessage(err),
          });
        }
      }
    }));
    if (this.#failing && failed === 0) o.log.info(`${o.backend} heartbeat recovered`, { addr: o.addr });
    this.#failing = failed > 0;
  }
}

/**
 * Keeps periodic liveness checks (heartbeat silence, idle links) from blaming peers for this process's own busy
 * spells. A check's timer that fires late means the process was busy — a long task, a GC pause, a paused VM —
 * and what peers sent meanwhile is still unread (Deno and Node run due timers before they poll sockets), while
 * peers whose sending is paced by this process (heartbeat answers, links in the same process) could not send at
 * all. So a late tick excuses the silence up to itself: silence counts from the later of the peer's last packet
 * and the last late tick.
 *
 * A process late on every tick stops judging silence: it is too busy to tell a dead peer from its own delay, and
 * closing connections would not make it less busy.
 *
 * @example
 * ```ts
 * import { LateTickGuard } from "./late_tick.ts";
 *
 * const guard = new LateTickGuard(100, 0);
 * const lastHeardAt = 50;
 * console.assert(100 - Math.max(lastHeardAt, guard.tick(100)) === 50); // on time: silent for 50 ms
 * console.assert(600 - Math.max(lastHeardAt, guard.tick(600)) === 0); // 500 ms late: excused up to now
 * console.assert(700 - Math.max(lastHeardAt, guard.tick(700)) === 100); // silence counts from the late tick
 * ```
 *
 * @module
 */

/** A tick later than this many periods after the previous one counts as late. */
const LATE_PERIODS = 1.5;

/** Tells each tick of a periodic check from when silence counts (see the module doc). */
export class LateTickGuard {
  readonly #periodMs: number;
  #lastTickAt: number;
  #excusedUntil: number;
  #late = false;

  /**
   * Starts guarding a check that runs every `periodMs`.
   *
   * @param periodMs how often the check runs
   * @param now when the check starts, on the clock the caller passes to {@linkcode tick}
   */
  constructor(periodMs: number, now: number) {
    this.#periodMs = periodMs;
    this.#lastTickAt = now;
    this.#excusedUntil = now;
  }

  /**
   * Call once per tick with the current time.
   *
   * @returns the time from which silence counts: the start, or the last tick that came late
   */
  tick(now: number): number {
    this.#late = now - this.#lastTickAt > LATE_PERIODS * this.#periodMs;
    if (this.#late) this.#excusedUntil = now;
    this.#lastTickAt = now;
    return this.#excusedUntil;
  }

  /** Whether the last {@linkcode tick} came late, for checks that count ticks rather than time. */
  get late(): boolean {
    return this.#late;
  }
}

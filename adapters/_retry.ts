/**
 * Back-off helpers of the adapters' background loops (lease recovery, watch restarts, long polls).
 *
 * @module
 */

/**
 * The wait before attempt `attempt` (1-based) of a retry loop: `baseMs × 2^(attempt-1)`, capped at `capMs`, with
 * jitter so a fleet restarted together does not retry in step (a random value in the upper half of the delay).
 */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number): number {
  const delay = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(delay / 2 + Math.random() * delay / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). The timer is cleared on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

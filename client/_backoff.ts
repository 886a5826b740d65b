/**
 * Capped exponential back-off with jitter (private to `client/`).
 *
 * @module
 */

/**
 * The delay before reconnect attempt `attempt` (1-based): `min(maxDelayMs, minDelayMs × 2^(attempt-1))`, of
 * which the upper half is random ("equal jitter"), so clients that lost the same server do not return in step.
 */
export function backoffDelay(
  attempt: number,
  minDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/**
 * Durations in config: due's Go-style strings (`"10s"`, `"500ms"`, `"1m30s"`, `"2h"`, `"7d"`) or a number of
 * milliseconds. Everything inside the framework holds milliseconds.
 *
 * @module
 */

/** Milliseconds per unit accepted by {@linkcode parseDuration}. */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_REGEXP = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h|d))+$/;
const DURATION_PART_REGEXP = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h|d)/g;
const NUMBER_REGEXP = /^\d+(?:\.\d+)?$/;

/**
 * Parses a duration into milliseconds: a string of one or more `<number><unit>` parts (units `ns`, `us`, `ms`,
 * `s`, `m`, `h`, `d`), a string of digits (milliseconds) or a non-negative finite number (milliseconds).
 *
 * @param input the duration as written in a config file, env variable or flag
 * @returns the duration in milliseconds (a fraction for `ns`/`us` parts)
 * @throws {SyntaxError} if `input` is not a duration
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * console.assert(parseDuration("1m30s") === 90_000);
 * console.assert(parseDuration(250) === 250);
 * ```
 */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return input;
    throw new SyntaxError(
      `Cannot parse duration as it must be a non-negative number: current value is ${input}`,
    );
  }
  const text = input.trim();
  if (NUMBER_REGEXP.test(text)) return Number(text);
  if (!DURATION_REGEXP.test(text)) {
    throw new SyntaxError(
      `Cannot parse duration as it must be like "10s", "500ms", "1m30s", "2h" or "7d": current value is ${
        JSON.stringify(input)
      }`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_REGEXP)) ms += Number(amount) * UNIT_MS[unit];
  return ms;
}

/**
 * Formats milliseconds as the shortest duration string {@linkcode parseDuration} reads back (`90000` → `"1m30s"`).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * console.assert(formatDuration(90_000) === "1m30s");
 * console.assert(formatDuration(0) === "0s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"]) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  if (rest > 0) out += `${Math.round(rest * 1e6)}ns`;
  return out;
}

/**
 * Env variable names of config keys: `DUE_` + each path segment turned from camelCase into UPPER_SNAKE, joined
 * with `_` (`network.tcp.server.maxConnNum` → `DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM`).
 *
 * @module
 */

/** The prefix of every config env variable. */
export const ENV_PREFIX = "DUE_";

const WORD_BOUNDARY_REGEXP = /([a-z0-9])([A-Z])|([A-Z])([A-Z][a-z])/g;

/**
 * A camelCase key segment in UPPER_SNAKE: `maxConnNum` → `MAX_CONN_NUM`, `accessKeyID` → `ACCESS_KEY_ID`.
 *
 * @example
 * ```ts
 * import { toUpperSnake } from "./env.ts";
 * console.assert(toUpperSnake("heartbeatInterval") === "HEARTBEAT_INTERVAL");
 * ```
 */
export function toUpperSnake(segment: string): string {
  return segment.replace(WORD_BOUNDARY_REGEXP, (_, a, b, c, d) => a ? `${a}_${b}` : `${c}_${d}`).replace(
    /-/g,
    "_",
  )
    .toUpperCase();
}

/**
 * The env variable that overrides a dotted config key.
 *
 * @example
 * ```ts
 * import { envName } from "./env.ts";
 * console.assert(envName("network.tcp.server.maxConnNum") === "DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM");
 * console.assert(envName("mode") === "DUE_MODE");
 * ```
 */
export function envName(key: string): string {
  return ENV_PREFIX + key.split(".").map(toUpperSnake).join("_");
}

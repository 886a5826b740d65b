/**
 * Private helper shared by the Redis backends of the event bus, locator, cache and lock: the connection options due reads
 * from `etc.toml` (`addrs`, `db`, `username`, `password`, `maxRetries`), one function that connects or fails with
 * a {@linkcode DueError} naming the server, and one that closes a client without leaving a socket or timer behind.
 *
 * Only the Redis backends import this file, so ioredis is loaded only when a Redis driver is chosen.
 *
 * @module
 */
import { Cluster, Redis } from "ioredis";
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { checkAddrs } from "./_options.ts";

/** Default Redis address, as due's. */
export const DEFAULT_REDIS_ADDRS: readonly string[] = ["127.0.0.1:6379"];
/** Default number of times a command is retried across reconnects before it fails, as due's `maxRetries`. */
export const DEFAULT_REDIS_MAX_RETRIES = 3;
/** Default time to wait for the first connection. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** Longest pause between two reconnect attempts. */
export const REDIS_MAX_RECONNECT_DELAY_MS = 2_000;

/** Connection options common to every Redis backend (due's `*.redis` keys, TLS not yet supported). */
export interface RedisConnectionOptions {
  /** `host:port` addresses; more than one means a Redis Cluster. @default ["127.0.0.1:6379"] */
  addrs?: readonly string[];
  /** Database number (single node only). @default 0 */
  db?: number;
  /** ACL user name. */
  username?: string;
  /** Password. */
  password?: string;
  /** Times a command is retried across reconnects before it fails. @default 3 */
  maxRetries?: number;
  /** Time to wait for the first connection, in milliseconds. @default 5000 */
  connectTimeoutMs?: number;
  /** Connection name shown by `CLIENT LIST` (a suffix is added per connection role). @default "due" */
  clientName?: string;
}

/** A connected ioredis client, single node or cluster. */
export type RedisClient = Redis | Cluster;

/** Parses `host:port` (or `redis://host:port`) into its parts. */
export function parseRedisAddr(addr: string): { host: string; port: number } {
  const url = new URL(addr.includes("://") ? addr : `redis://${addr}`);
  return { host: url.hostname || "127.0.0.1", port: Number(url.port || 6379) };
}

/** Validates the connection options; `what` names the component in messages ("redis cache"). */
export function validateRedisOptions(options: RedisConnectionOptions, what: string): void {
  const { addrs = DEFAULT_REDIS_ADDRS, db = 0, maxRetries = DEFAULT_REDIS_MAX_RETRIES } = options;
  const { connectTimeoutMs = DEFAULT_REDIS_CONNECT_TIMEOUT_MS } = options;
  checkAddrs(addrs, what);
  if (!Number.isInteger(db) || db < 0) {
    throw new RangeError(`Cannot create ${what} as 'db' must be an integer >= 0: current value is ${db}`);
  }
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(
      `Cannot create ${what} as 'maxRetries' must be an integer >= 0: current value is ${maxRetries}`,
    );
  }
  if (!(connectTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot create ${what} as 'connectTimeoutMs' must be > 0: current value is ${connectTimeoutMs}`,
    );
  }
}

/**
 * Opens one connection and waits until it is ready. Reconnects later on its own (capped back-off). Throws a
 * {@linkcode DueError} with code `unavailable` and `addr` set when the first connection fails.
 */
export async function connectRedis(
  options: RedisConnectionOptions,
  what: string,
  role: string,
  log: Logger,
): Promise<RedisClient> {
  const { addrs = DEFAULT_REDIS_ADDRS, db = 0, username, password } = options;
  const { maxRetries = DEFAULT_REDIS_MAX_RETRIES, connectTimeoutMs = DEFAULT_REDIS_CONNECT_TIMEOUT_MS } =
    options;
  const { clientName = "due" } = options;
  const common = {
    username,
    password,
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: maxRetries,
    connectionName: `${clientName}-${role}`,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, REDIS_MAX_RECONNECT_DELAY_MS),
  };
  const client: RedisClient = addrs.length === 1
    ? new Redis({ ...parseRedisAddr(addrs[0]), db, ...common })
    : new Cluster(addrs.map(parseRedisAddr), { redisOptions: common, lazyConnect: true });
  let connected = false;
  let lastError = "";
  client.on("error", (err: Error) => {
    // ioredis reports every failed reconnect here; log once per distinct message so an outage is visible
    // without flooding the log.
    if (!connected || err.message === lastError) return;
    lastError = err.message;
    log.warn("redis connection error", { addr: addrs.join(","), role, error: err.message });
  });
  client.on("ready", () => {
    if (connected && lastError !== "") log.info("redis reconnected", { addr: addrs.join(","), role });
    lastError = "";
  });
  try {
    await client.connect();
    connected = true;
    return client;
  } catch (err) {
    await closeRedis(client);
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot connect ${what} to redis at ${addrs.join(",")}: ${errorMessage(err)}`,
      { addr: addrs.join(","), cause: err },
    );
  }
}

/**
 * Opens two connections, one per role (commands and a subscriber, say), as {@linkcode connectRedis} does; closes
 * the first again when the second fails.
 */
export async function connectRedisPair(
  options: RedisConnectionOptions,
  what: string,
  roles: readonly [string, string],
  log: Logger,
): Promise<[RedisClient, RedisClient]> {
  const first = await connectRedis(options, what, roles[0], log);
  try {
    return [first, await connectRedis(options, what, roles[1], log)];
  } catch (err) {
    await closeRedis(first);
    throw err;
  }
}

/** Closes a client at once and waits until its socket is gone (so test sanitizers stay quiet). */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === "end") return;
  if (client.status === "reconnecting" || client.status === "wait" || client.status === "close") {
    // No socket: disconnect() only cancels the pending reconnect timer.
    client.disconnect(false);
    return;
  }
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    client.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect(false);
  await ended;
}

/** Wraps a failed Redis command into a {@linkcode DueError} naming the server. */
export function redisError(err: unknown, action: string, addrs: readonly string[]): DueError {
  if (err instanceof DueError) return err;
  return new DueError(
    ErrorCode.Unavailable,
    `Cannot ${action} on redis at ${addrs.join(",")}: ${errorMessage(err)}`,
    { addr: addrs.join(","), cause: err },
  );
}

/** Runs one Redis command; a failure is thrown as {@linkcode redisError} names it (`action` on `addrs`). */
export async function redisCommand<T>(
  action: string,
  addrs: readonly string[],
  command: () => Promise<T>,
): Promise<T> {
  try {
    return await command();
  } catch (err) {
    throw redisError(err, action, addrs);
  }
}

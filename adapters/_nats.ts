/**
 * Private helper shared by the NATS backends of the event bus and the mesh transport: the server list from `url`,
 * one function that connects (reconnecting for ever, with a fixed wait) or fails with a {@linkcode DueError}
 * naming the servers, and the log of disconnects and reconnects.
 *
 * Only the NATS backends import this file, so nats.js is loaded only when a NATS driver is chosen.
 *
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";

/**
 * The servers of `url` (one URL or an array of them); `what` names the component ("nats event bus").
 *
 * @throws {TypeError} when `url` is not a URL or a non-empty array of URLs
 */
export function natsServers(url: unknown, what: string): string[] {
  const servers = typeof url === "string" ? [url] : Array.isArray(url) ? [...url] : [];
  if (servers.length === 0 || servers.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError(
      `Cannot create ${what} as 'url' must be a URL or a non-empty array of URLs: current value is ${
        JSON.stringify(url)
      }`,
    );
  }
  return servers;
}

/** Options of {@linkcode connectNats}, already validated. */
export interface NatsConnectOptions {
  /** Time allowed for the first connection, in milliseconds. */
  timeoutMs: number;
  /** Wait between reconnect attempts, in milliseconds. */
  reconnectWaitMs: number;
  /** Connection name shown by the server's monitoring. */
  name: string;
  /** Leave the async stack trace out of request errors (saves an Error per request). @default false */
  noAsyncTraces?: boolean;
}

/**
 * Connects to the first server of `servers` that answers. nats.js then reconnects on its own, for ever.
 *
 * @throws {DueError} `unavailable` (with `addr`) when no server answers within `timeoutMs`
 */
export async function connectNats(
  servers: string[],
  what: string,
  options: NatsConnectOptions,
): Promise<NatsConnection> {
  const { timeoutMs, reconnectWaitMs, name, noAsyncTraces = false } = options;
  try {
    return await connect({
      servers,
      timeout: timeoutMs,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: reconnectWaitMs,
      noAsyncTraces,
    });
  } catch (err) {
    const addr = servers.join(",");
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot connect ${what} to ${addr}: ${errorMessage(err)}`,
      { addr, cause: err },
    );
  }
}

/** Logs disconnects and reconnects until the connection closes. */
export async function watchNatsStatus(nc: NatsConnection, log: Logger, addr: string): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === "disconnect") log.warn("nats disconnected", { addr, server: status.server });
    else if (status.type === "reconnect") log.info("nats reconnected", { addr, server: status.server });
    else if (status.type === "error") log.warn("nats error", { addr, error: errorMessage(status.error) });
  }
}

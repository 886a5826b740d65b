/**
 * Parsing of `host:port` addresses (private to `client/`).
 *
 * @module
 */

/** A parsed `host:port`. */
export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Splits `host:port`, `[ipv6]:port` or `:port` (loopback).
 *
 * @throws {TypeError} when `addr` has no valid port
 */
export function parseAddr(addr: string, what: string): HostPort {
  const colon = typeof addr === "string" ? addr.lastIndexOf(":") : -1;
  const portText = colon < 0 ? "" : addr.slice(colon + 1);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new TypeError(
      `Cannot ${what} as 'addr' must be "host:port" with a port in [1, 65535]: current value is ${
        JSON.stringify(addr)
      }`,
    );
  }
  let hostname = addr.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return { hostname: hostname || "127.0.0.1", port };
}

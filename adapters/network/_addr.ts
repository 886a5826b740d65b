/**
 * Listen-address parsing shared by the network servers.
 *
 * @module
 */

/** A parsed listen address. */
export interface ListenAddr {
  /** Host to bind; `0.0.0.0` when the address has none (`":3553"`). */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
}

/**
 * Parses `":3553"`, `"127.0.0.1:3553"`, `"[::1]:3553"` or `"3553"`.
 *
 * @throws {TypeError} when the port is missing or not a number in 0..65535
 */
export function parseListenAddr(addr: string, what = "addr"): ListenAddr {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new TypeError(
      `Cannot listen as '${what}' must be "host:port" or ":port": current value is "${addr}"`,
    );
  }
  return { hostname: match[1] || match[2] || "0.0.0.0", port };
}

/** Formats a host and port as `host:port` (brackets around IPv6). */
export function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

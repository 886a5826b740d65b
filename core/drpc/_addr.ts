/**
 * Addresses of the cluster link: listen addresses (`":0"`, `"10.0.0.5:9000"`), the advertised endpoint
 * (`drpc://host:port?is_secure=false`) and the host to advertise when listening on every interface.
 *
 * @module
 */

/** The scheme of cluster link endpoints. */
const DRPC_SCHEME = "drpc:";

/** A host and port. */
export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Parses `":9000"`, `"127.0.0.1:9000"`, `"[::1]:9000"` or `"9000"`; the host defaults to `0.0.0.0`. `what` starts
 * the error message ("Cannot create link server").
 *
 * @throws {TypeError} when the port is missing or not in 0..65535
 */
export function parseHostPort(addr: string, what: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new TypeError(
      `${what} as 'addr' must be "host:port" or ":port": current value is "${addr}"`,
    );
  }
  return { hostname: match[1] || match[2] || "0.0.0.0", port };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Whether `hostname` means every interface. */
export function isWildcard(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "";
}

/**
 * The host to advertise for a server bound to `hostname`: the host itself, or for a wildcard the first
 * non-loopback IPv4 address of the machine, or `127.0.0.1` when there is none or it cannot be read.
 */
export function advertisedHost(hostname: string): string {
  if (!isWildcard(hostname)) return hostname;
  try {
    for (const nic of Deno.networkInterfaces()) {
      if (nic.family === "IPv4" && !nic.address.startsWith("127.")) return nic.address;
    }
  } catch {
    // No --allow-sys: fall back to loopback.
  }
  return "127.0.0.1";
}

/** The endpoint a link server advertises in the registry. */
export function formatEndpoint(hostname: string, port: number): string {
  return `drpc://${formatAddr(hostname, port)}?is_secure=false`;
}

/**
 * The host and port of a `drpc://host:port[?is_secure=false]` endpoint.
 *
 * @throws {TypeError} when it is not one, or asks for TLS (not supported yet)
 */
export function parseEndpoint(endpoint: string): HostPort {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(
      `Cannot link to endpoint as it must be "drpc://host:port": current value is "${endpoint}"`,
    );
  }
  const port = Number(url.port);
  if (url.protocol !== DRPC_SCHEME || url.hostname === "" || !(port > 0 && port <= 65535)) {
    throw new TypeError(
      `Cannot link to endpoint as it must be "drpc://host:port": current value is "${endpoint}"`,
    );
  }
  if (url.searchParams.get("is_secure") === "true") {
    throw new TypeError(`Cannot link to endpoint "${endpoint}": TLS cluster links are not supported`);
  }
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { hostname, port };
}

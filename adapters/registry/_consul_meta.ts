/**
 * Private to the Consul registry: an instance record (PROTOCOL.md §3) flattened into a Consul service's `Meta`,
 * in due's layout, so Go and Deno processes read each other's records:
 *
 * - `id`, `kind`, `alias`, `state`, `endpoint`, `weight` as plain strings;
 * - `events-<n>` and `services-<n>`: JSON arrays cut into chunks of at most 512 characters (a plain `events` or
 *   `services` key, due's older layout, is read too);
 * - `routes-<n>`: comma-separated `<id>-<flags>` items, flags bit 0 internal, bit 1 stateful, bit 2 authorized;
 * - custom metadata under `_<key>`.
 *
 * Consul allows at most 64 meta pairs, keys of `[A-Za-z0-9_-]` up to 128 characters and values up to 512: a
 * record that cannot fit is refused at registration with the reason, never cut silently.
 *
 * @module
 */
import { parseServiceInstance, type RouteRecord, type ServiceInstance } from "../../core/cluster.ts";

/** Longest meta value Consul accepts. */
export const CONSUL_META_VALUE_MAX = 512;
/** Most meta pairs Consul accepts on one service. */
export const CONSUL_META_PAIRS_MAX = 64;
/** Longest meta key Consul accepts. */
const META_KEY_MAX = 128;
/** Prefix of custom metadata keys, as due's. */
export const CONSUL_METADATA_PREFIX = "_";

const ROUTE_INTERNAL = 1;
const ROUTE_STATEFUL = 2;
const ROUTE_AUTHORIZED = 4;

/** The parts of an agent service registration that come from the instance. */
export interface ConsulServiceFields {
  /** Service id: `<name>-<id>`, as due's, so a node's `node` and `mesh` records do not collide. */
  ID: string;
  /** Service name: the role, after the optional namespace. */
  Name: string;
  /** Host of the endpoint ("" when it has none). */
  Address: string;
  /** Port of the endpoint (0 when it has none). */
  Port: number;
  /** The flattened record. */
  Meta: Record<string, string>;
  /** The endpoint's scheme → address, as due's. */
  TaggedAddresses?: Record<string, { Address: string; Port: number }>;
}

/** The Consul service name of role `name` under `namespace` ("" = due's plain names). */
export function consulServiceName(namespace: string, name: string): string {
  return namespace === "" ? name : `${namespace}-${name}`;
}

/** The Consul service id of an instance, as due's `makeInsID`. */
export function consulServiceId(instance: Pick<ServiceInstance, "name" | "id">): string {
  return `${instance.name}-${instance.id}`;
}

/** Host and port of `drpc://host:port?…`, or `undefined` for an endpoint without them (`inproc://`). */
export function endpointHostPort(
  endpoint: string,
): { scheme: string; host: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const port = Number(url.port);
  if (url.hostname === "" || !(port > 0)) return undefined;
  return { scheme: url.protocol.replace(/:$/, ""), host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/** Cuts `items` (already serialised) into values of at most 512 characters joined by `open`/`sep`/`close`. */
function chunk(items: string[], field: string, open: string, close: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current: string[] = [];
  let size = 0;
  const flush = () => {
    if (current.length === 0) return;
    out[`${field}-${Object.keys(out).length}`] = `${open}${current.join(",")}${close}`;
    current = [];
    size = 0;
  };
  const frame = open.length + close.length;
  for (const item of items) {
    if (item.length + frame > CONSUL_META_VALUE_MAX) {
      throw new RangeError(
        `Cannot register instance in Consul as one '${field}' item is longer than ${
          CONSUL_META_VALUE_MAX - frame
        } characters: ${item.slice(0, 60)}…`,
      );
    }
    if (size > 0 && frame + size + 1 + item.length > CONSUL_META_VALUE_MAX) flush();
    size += (size > 0 ? 1 : 0) + item.length;
    current.push(item);
  }
  flush();
  return out;
}

function routeItem(route: RouteRecord): string {
  const flags = (route.n ? ROUTE_INTERNAL : 0) | (route.s ? ROUTE_STATEFUL : 0) |
    (route.a ? ROUTE_AUTHORIZED : 0);
  return `${route.i}-${flags}`;
}

/**
 * Flattens an instance into the fields of an agent service registration.
 *
 * @throws {TypeError | RangeError} when the record cannot be stored in Consul (a bad metadata key, a value over
 *   512 characters, more than 64 meta pairs), naming what does not fit
 */
export function toConsulService(instance: ServiceInstance, namespace: string): ConsulServiceFields {
  const record = parseServiceInstance(instance);
  const meta: Record<string, string> = {
    id: record.id,
    kind: record.kind,
    alias: record.alias,
    state: record.state,
    endpoint: record.endpoint,
    weight: String(record.weight),
    ...chunk(record.events.map((e) => JSON.stringify(e)), "events", "[", "]"),
    ...chunk(record.services.map((s) => JSON.stringify(s)), "services", "[", "]"),
    ...chunk(record.routes.map(routeItem), "routes", "", ""),
  };
  for (const [key, value] of Object.entries(record.metadata)) {
    const metaKey = `${CONSUL_METADATA_PREFIX}${key}`;
    if (!/^[A-Za-z0-9_-]+$/.test(key) || metaKey.length > META_KEY_MAX) {
      throw new TypeError(
        `Cannot register instance in Consul as metadata key ${JSON.stringify(key)} must be 1 to ${
          META_KEY_MAX - 1
        } letters, digits, '_' or '-'`,
      );
    }
    if (typeof value !== "string" || value.length > CONSUL_META_VALUE_MAX) {
      throw new RangeError(
        `Cannot register instance in Consul as metadata ${
          JSON.stringify(key)
        } must be a string of at most ${CONSUL_META_VALUE_MAX} characters`,
      );
    }
    meta[metaKey] = value;
  }
  for (const [key, value] of Object.entries(meta)) {
    if (value.length > CONSUL_META_VALUE_MAX) {
      throw new RangeError(
        `Cannot register instance in Consul as its '${key}' is longer than ${CONSUL_META_VALUE_MAX} characters`,
      );
    }
  }
  const pairs = Object.keys(meta).length;
  if (pairs > CONSUL_META_PAIRS_MAX) {
    throw new RangeError(
      `Cannot register instance in Consul as it needs ${pairs} meta pairs (routes, metadata) and Consul keeps at most ${CONSUL_META_PAIRS_MAX}`,
    );
  }
  const target = endpointHostPort(record.endpoint);
  const fields: ConsulServiceFields = {
    ID: consulServiceId(record),
    Name: consulServiceName(namespace, record.name),
    Address: target?.host ?? "",
    Port: target?.port ?? 0,
    Meta: meta,
  };
  if (target) fields.TaggedAddresses = { [target.scheme]: { Address: target.host, Port: target.port } };
  return fields;
}

/** The values of `<field>-<n>` keys in chunk order, then the plain `<field>` key of due's older layout. */
function chunks(meta: Record<string, string>, field: string): string[] {
  const indexed: [number, string][] = [];
  for (const [key, value] of Object.entries(meta)) {
    const match = /^([a-z]+)-(\d+)$/.exec(key);
    if (match && match[1] === field) indexed.push([Number(match[2]), value]);
  }
  indexed.sort((a, b) => a[0] - b[0]);
  const values = indexed.map(([, value]) => value);
  if (meta[field] !== undefined) values.push(meta[field]);
  return values;
}

function jsonList(meta: Record<string, string>, field: string): unknown[] {
  return chunks(meta, field).flatMap((value) => {
    const list = JSON.parse(value);
    if (!Array.isArray(list)) throw new TypeError(`'${field}' is not a JSON array`);
    return list;
  });
}

function routes(meta: Record<string, string>): RouteRecord[] {
  const out: RouteRecord[] = [];
  for (const value of chunks(meta, "routes")) {
    for (const item of value.split(",")) {
      // Split at the last '-': a route id may be negative, the flags never are.
      const cut = item.lastIndexOf("-");
      const id = Number(item.slice(0, cut));
      const flags = Number(item.slice(cut + 1));
      if (cut <= 0 || !Number.isInteger(id) || !Number.isInteger(flags)) {
        throw new TypeError(`route item ${JSON.stringify(item)} is not <id>-<flags>`);
      }
      const route: RouteRecord = { i: id };
      if (flags & ROUTE_INTERNAL) route.n = true;
      if (flags & ROUTE_STATEFUL) route.s = true;
      if (flags & ROUTE_AUTHORIZED) route.a = true;
      out.push(route);
    }
  }
  return out;
}

/**
 * Reads an instance back from a Consul service (`Service` and `Meta` of a health entry).
 *
 * @throws {TypeError} naming what is malformed
 */
export function fromConsulService(
  service: { Service: string; Meta?: Record<string, string> | null },
  namespace: string,
): ServiceInstance {
  const meta = service.Meta ?? {};
  const prefix = namespace === "" ? "" : `${namespace}-`;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key.startsWith(CONSUL_METADATA_PREFIX)) metadata[key.slice(CONSUL_METADATA_PREFIX.length)] = value;
  }
  return parseServiceInstance({
    id: meta.id,
    name: service.Service.startsWith(prefix) ? service.Service.slice(prefix.length) : service.Service,
    kind: meta.kind,
    alias: meta.alias,
    state: meta.state,
    endpoint: meta.endpoint,
    weight: Number(meta.weight),
    events: jsonList(meta, "events"),
    services: jsonList(meta, "services"),
    routes: routes(meta),
    metadata,
  });
}

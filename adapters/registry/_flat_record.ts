/**
 * Private to the registry backends that keep an instance record (PROTOCOL.md §3) in a flat string map — Consul's
 * service `Meta`, Nacos's instance `metadata` — in due's layout, so Go and Deno processes read each other's records:
 *
 * - `id`, `kind`, `alias`, `state`, `endpoint`, `weight` as plain strings;
 * - `events-<n>` and `services-<n>`: JSON arrays cut into chunks of at most a backend's value length (a plain
 *   `events` or `services` key, due's older Consul layout and its Nacos layout, is read too);
 * - `routes-<n>`: comma-separated `<id>-<flags>` items, flags bit 0 internal, bit 1 stateful, bit 2 authorized (a
 *   plain `routes` key holding a JSON array of route objects, due's Nacos layout, is read too);
 * - custom metadata under `_<key>` (a plain `metadata` key holding a JSON object, due's Nacos layout, is read too).
 *
 * Each backend adds its own limits (key characters, value length, pair count, total size) around these helpers.
 *
 * @module
 */
import { parseServiceInstance, type RouteRecord, type ServiceInstance } from "../../core/cluster.ts";

/** Prefix of custom metadata keys, as due's. */
export const METADATA_PREFIX = "_";

const ROUTE_INTERNAL = 1;
const ROUTE_STATEFUL = 2;
const ROUTE_AUTHORIZED = 4;

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

/**
 * Cuts `items` (already serialised) into values of at most `maxValue` characters joined by `open`/`sep`/`close`,
 * under keys `<field>-<n>`.
 *
 * @param backend names the backend in messages ("Consul")
 * @throws {RangeError} when one item alone is too long for a value
 */
function chunk(
  items: string[],
  field: string,
  open: string,
  close: string,
  maxValue: number,
  backend: string,
): Record<string, string> {
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
    if (item.length + frame > maxValue) {
      throw new RangeError(
        `Cannot register instance in ${backend} as one '${field}' item is longer than ${
          maxValue - frame
        } characters: ${item.slice(0, 60)}…`,
      );
    }
    if (size > 0 && frame + size + 1 + item.length > maxValue) flush();
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
 * The record fields of an instance as flat string pairs (no custom metadata): `id`, `kind`, `alias`, `state`,
 * `endpoint`, `weight` and the `events-<n>`, `services-<n>`, `routes-<n>` chunks.
 *
 * @param record a record already checked with `parseServiceInstance`
 * @param maxValue longest value the backend accepts (`Infinity`: one chunk per field)
 * @param backend names the backend in messages
 * @throws {RangeError} when one list item alone is longer than `maxValue`
 */
export function flattenRecordFields(
  record: ServiceInstance,
  maxValue: number,
  backend: string,
): Record<string, string> {
  return {
    id: record.id,
    kind: record.kind,
    alias: record.alias,
    state: record.state,
    endpoint: record.endpoint,
    weight: String(record.weight),
    ...chunk(record.events.map((e) => JSON.stringify(e)), "events", "[", "]", maxValue, backend),
    ...chunk(record.services.map((s) => JSON.stringify(s)), "services", "[", "]", maxValue, backend),
    ...chunk(record.routes.map(routeItem), "routes", "", "", maxValue, backend),
  };
}

/** The values of `<field>-<n>` keys in chunk order, then the plain `<field>` key of due's other layouts. */
function chunks(meta: Record<string, string>, field: string): string[] {
  const indexed: [number, string][] = [];
  for (const [key, value] of Object.entries(meta)) {
    const match = /^([a-z]+)-(\d+)$/.exec(key);
    if (match && match[1] === field) indexed.push([Number(match[2]), value]);
  }
  indexed.sort((a, b) => a[0] - b[0]);
  const values = indexed.map(([, value]) => value);
  if (meta[field] !== undefined && meta[field] !== "") values.push(meta[field]);
  return values;
}

function jsonList(meta: Record<string, string>, field: string): unknown[] {
  return chunks(meta, field).flatMap((value) => {
    const list = JSON.parse(value);
    if (!Array.isArray(list)) throw new TypeError(`'${field}' is not a JSON array`);
    return list;
  });
}

/** A route object of due's JSON layouts: `{i, s, n, a}`, or the older `{id, stateful, internal, authorized}`. */
function jsonRoute(value: unknown): RouteRecord {
  const v = value as Record<string, unknown> | null;
  const id = v?.i ?? v?.id;
  if (typeof id !== "number" || !Number.isInteger(id)) {
    throw new TypeError(`route ${JSON.stringify(value)} has no integer id`);
  }
  const route: RouteRecord = { i: id };
  if (v!.n === true || v!.internal === true) route.n = true;
  if (v!.s === true || v!.stateful === true) route.s = true;
  if (v!.a === true || v!.authorized === true) route.a = true;
  return route;
}

function routes(meta: Record<string, string>): RouteRecord[] {
  const out: RouteRecord[] = [];
  for (const value of chunks(meta, "routes")) {
    if (value.startsWith("[")) {
      const list = JSON.parse(value);
      if (!Array.isArray(list)) throw new TypeError("'routes' is not a JSON array");
      out.push(...list.map(jsonRoute));
      continue;
    }
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

/** Custom metadata: the `_<key>` pairs, over the JSON object of a plain `metadata` key (due's Nacos layout). */
function customMetadata(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.metadata !== undefined && meta.metadata !== "") {
    const parsed = JSON.parse(meta.metadata);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new TypeError("'metadata' is not a JSON object");
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === "string") out[key] = value;
    }
  }
  for (const [key, value] of Object.entries(meta)) {
    if (key.startsWith(METADATA_PREFIX)) out[key.slice(METADATA_PREFIX.length)] = value;
  }
  return out;
}

/**
 * Reads an instance back from its flat map.
 *
 * @param meta the flat map (Consul `Meta`, Nacos `metadata`)
 * @param name the role name, from the backend's service name
 * @throws {TypeError} naming what is malformed
 */
export function unflattenRecord(meta: Record<string, string>, name: string): ServiceInstance {
  return parseServiceInstance({
    id: meta.id,
    name,
    kind: meta.kind,
    alias: meta.alias,
    state: meta.state,
    endpoint: meta.endpoint,
    weight: Number(meta.weight),
    events: jsonList(meta, "events"),
    services: jsonList(meta, "services"),
    routes: routes(meta),
    metadata: customMetadata(meta),
  });
}

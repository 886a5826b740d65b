/**
 * Private to the Consul registry: an instance record (PROTOCOL.md §3) flattened into a Consul service's `Meta`,
 * in due's layout (`_flat_record.ts`, shared with the Nacos registry), so Go and Deno processes read each other's
 * records: `id`, `kind`, `alias`, `state`, `endpoint`, `weight`; `events-<n>`, `services-<n>` and `routes-<n>`
 * chunks of at most 512 characters; custom metadata under `_<key>`.
 *
 * Consul allows at most 64 meta pairs, keys of `[A-Za-z0-9_-]` up to 128 characters and values up to 512: a
 * record that cannot fit is refused at registration with the reason, never cut silently.
 *
 * @module
 */
import { parseServiceInstance, type ServiceInstance } from "../../core/cluster.ts";
import { endpointHostPort, flattenRecordFields, METADATA_PREFIX, unflattenRecord } from "./_flat_record.ts";

/** Longest meta value Consul accepts. */
export const CONSUL_META_VALUE_MAX = 512;
/** Most meta pairs Consul accepts on one service. */
const CONSUL_META_PAIRS_MAX = 64;
/** Longest meta key Consul accepts. */
const META_KEY_MAX = 128;
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

/**
 * Flattens an instance into the fields of an agent service registration.
 *
 * @throws {TypeError | RangeError} when the record cannot be stored in Consul (a bad metadata key, a value over
 *   512 characters, more than 64 meta pairs), naming what does not fit
 */
export function toConsulService(instance: ServiceInstance, namespace: string): ConsulServiceFields {
  const record = parseServiceInstance(instance);
  const meta = flattenRecordFields(record, CONSUL_META_VALUE_MAX, "Consul");
  for (const [key, value] of Object.entries(record.metadata)) {
    const metaKey = `${METADATA_PREFIX}${key}`;
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

/**
 * Reads an instance back from a Consul service (`Service` and `Meta` of a health entry).
 *
 * @throws {TypeError} naming what is malformed
 */
export function fromConsulService(
  service: { Service: string; Meta?: Record<string, string> | null },
  namespace: string,
): ServiceInstance {
  const prefix = namespace === "" ? "" : `${namespace}-`;
  return unflattenRecord(
    service.Meta ?? {},
    service.Service.startsWith(prefix) ? service.Service.slice(prefix.length) : service.Service,
  );
}

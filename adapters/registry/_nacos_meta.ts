/**
 * Private to the Nacos registry: an instance record (PROTOCOL.md §3) as a Nacos instance's `metadata`, in the
 * layout of due's Go Nacos registry, so Go and Deno processes read each other's records: `id`, `name`, `kind`,
 * `alias`, `state`, `endpoint`, `weight` as plain strings, and `routes`, `events`, `services` and `metadata` as
 * JSON (each only when not empty). Reading back is `unflattenRecord` (`_flat_record.ts`), which also reads the
 * flat layout of the Consul registry.
 *
 * Nacos ≥ 2.3 refuses an instance whose metadata keys and values add up to more than 1024 characters (its
 * `nacos.naming.service.metadata.length`; due's docs note it for nodes with many routes): such a record is
 * refused here, before it is sent, naming the fields that take the room. About 35 routes with flags fit.
 *
 * @module
 */
import { parseServiceInstance, type ServiceInstance } from "../../core/cluster.ts";

/** Nacos ≥ 2.3's default limit on an instance's metadata: keys and values together, in characters. */
export const NACOS_METADATA_MAX_LENGTH = 1024;

/** What Nacos counts of a metadata map: the length of every non-blank key and value. */
function nacosMetadataLength(metadata: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (key.trim() !== "") total += key.length;
    if (value.trim() !== "") total += value.length;
  }
  return total;
}

/**
 * The metadata of an instance's Nacos registration.
 *
 * @param maxLength the server's limit (`0` = none, as before Nacos 2.3)
 * @throws {TypeError} for a custom metadata value that is not a string
 * @throws {RangeError} when the metadata is longer than `maxLength`, naming the largest fields
 */
export function toNacosMetadata(instance: ServiceInstance, maxLength: number): Record<string, string> {
  const record = parseServiceInstance(instance);
  for (const [key, value] of Object.entries(record.metadata)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot register instance ${record.id} in Nacos as metadata ${JSON.stringify(key)} must be a string`,
      );
    }
  }
  const metadata: Record<string, string> = {
    id: record.id,
    name: record.name,
    kind: record.kind,
    alias: record.alias,
    state: record.state,
    endpoint: record.endpoint,
    weight: String(Math.max(record.weight, 1)),
  };
  if (record.routes.length > 0) metadata.routes = JSON.stringify(record.routes);
  if (record.events.length > 0) metadata.events = JSON.stringify(record.events);
  if (record.services.length > 0) metadata.services = JSON.stringify(record.services);
  if (Object.keys(record.metadata).length > 0) metadata.metadata = JSON.stringify(record.metadata);
  const length = nacosMetadataLength(metadata);
  if (maxLength > 0 && length > maxLength) {
    const largest = Object.entries(metadata)
      .map(([key, value]) => [key, key.length + value.length] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([key, size]) => `'${key}' ${size}${key === "routes" ? ` (${record.routes.length} routes)` : ""}`);
    throw new RangeError(
      `Cannot register instance ${record.id} in Nacos as its metadata takes ${length} characters and Nacos keeps at most ${maxLength} (largest: ${
        largest.join(", ")
      }); register fewer routes or metadata, or raise nacos.naming.service.metadata.length on the server and 'maxMetadataLength' here`,
    );
  }
  return metadata;
}

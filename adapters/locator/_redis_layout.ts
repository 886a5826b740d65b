/**
 * The Redis wire layout of the locator (PROTOCOL.md §3): key and channel names, the Lua scripts that write a
 * binding together with its event, and the event JSON. Shared by the Redis locator and its tests.
 *
 * @module
 */
import type { LocateEvent } from "./types.ts";

/** Sets the gate of a uid and publishes the event. KEYS: gate key. ARGV: gid, channel, event. */
export const BIND_GATE_SCRIPT = `redis.call("SET", KEYS[1], ARGV[1], "KEEPTTL")
redis.call("PUBLISH", ARGV[2], ARGV[3])
return 1`;
/** Deletes the gate of a uid only if it is still ARGV[1], then publishes. KEYS: gate key. ARGV: gid, channel, event. */
export const UNBIND_GATE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  redis.call("PUBLISH", ARGV[2], ARGV[3])
  return 1
end
return 0`;
/** Sets the node of a uid for a name and publishes. KEYS: node key. ARGV: name, nid, channel, event. */
export const BIND_NODE_SCRIPT = `redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
redis.call("PUBLISH", ARGV[3], ARGV[4])
return 1`;
/** Deletes a uid's node for a name only if it is still ARGV[2], then publishes. KEYS: node key. ARGV: as bind. */
export const UNBIND_NODE_SCRIPT = `if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call("HDEL", KEYS[1], ARGV[1])
  redis.call("PUBLISH", ARGV[3], ARGV[4])
  return 1
end
return 0`;

/** The Redis names of the locator under `prefix` (PROTOCOL.md §3). */
export function redisLocatorKeys(prefix: string): {
  gate: (uid: number) => string;
  node: (uid: number) => string;
  channel: (kind: "gate" | "node") => string;
} {
  return {
    gate: (uid) => `${prefix}:locate:user:${uid}:gate`,
    node: (uid) => `${prefix}:locate:user:${uid}:node`,
    channel: (kind) => `${prefix}:locate:cluster:${kind}:event`,
  };
}

/** Encodes an event exactly as due publishes it (key order `uid, type, insID, insKind, insName`). */
export function encodeLocateEvent(event: LocateEvent): string {
  const { uid, type, insID, insKind, insName } = event;
  return JSON.stringify({ uid, type, insID, insKind, insName });
}

/** Decodes a published event; `undefined` if it is not one. */
export function decodeLocateEvent(text: string): LocateEvent | undefined {
  let value: Partial<LocateEvent> | null;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { uid, type, insID, insKind, insName } = value;
  if (typeof uid !== "number" || !Number.isInteger(uid)) return undefined;
  if (type !== 1 && type !== 2 && type !== 3 && type !== 4) return undefined;
  if (typeof insID !== "string" || typeof insName !== "string") return undefined;
  if (insKind !== "gate" && insKind !== "node") return undefined;
  return { uid, type, insID, insKind, insName };
}

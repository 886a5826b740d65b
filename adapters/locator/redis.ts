/**
 * The Redis locator (due's `locate/redis`), with the key layout and events of PROTOCOL.md §3:
 *
 * - `<prefix>:locate:user:<uid>:gate` — a string holding the gid (written with `SET … KEEPTTL`, no expiry);
 * - `<prefix>:locate:user:<uid>:node` — a hash node name → nid;
 * - changes are published on `<prefix>:locate:cluster:<gate|node>:event` as
 *   `{"uid","type","insID","insKind","insName"}` (bindGate 1, bindNode 2, unbindGate 3, unbindNode 4).
 *
 * Every write and its event run in one Lua script, so the event follows the write and an unbind compares before
 * it deletes (a stale instance cannot remove a newer binding; no event when nothing was removed). Watches share one
 * dedicated subscriber connection, subscribed to the channels of the kinds watched; after a reconnect it subscribes
 * again and tells each watch through `onReady` (events published in between are lost, as with any pub/sub).
 * Concurrent lookups of one key share one Redis read (single flight); a write for a uid detaches the reads in
 * flight for it, so a lookup made after a write never gets the value from before it.
 *
 * @module
 */
import { ClosedError, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import type { DueConfig } from "../../config/schema.ts";
import { checkPrefix } from "../_options.ts";
import {
  closeRedis,
  connectRedisPair,
  DEFAULT_REDIS_ADDRS,
  type RedisConnectionOptions,
  redisError,
  validateRedisOptions,
} from "../_redis.ts";
import { type EventQueue, iterateEvents, pushEvent } from "./_event_queue.ts";
import {
  BIND_GATE_SCRIPT,
  BIND_NODE_SCRIPT,
  decodeLocateEvent,
  encodeLocateEvent,
  redisLocatorKeys,
  UNBIND_GATE_SCRIPT,
  UNBIND_NODE_SCRIPT,
} from "./_redis_layout.ts";
import { type LocateEvent, LocateEventType, type LocateWatchOptions, type Locator } from "./types.ts";

export { redisLocatorKeys } from "./_redis_layout.ts";

/** Default key prefix, as due's (keys come out as `due:locate:locate:user:…`). */
export const DEFAULT_REDIS_LOCATOR_PREFIX = "due:locate";
/** Events a slow watcher may hold before the oldest are dropped (and counted). */
export const REDIS_LOCATOR_WATCH_QUEUE = 10_000;

/** Options of {@linkcode createRedisLocator}: due's `locate.redis` keys. */
export interface RedisLocatorOptions extends RedisConnectionOptions {
  /** Key and channel prefix. @default "due:locate" */
  prefix?: string;
  /** Where connection trouble and malformed events are logged. @default a console logger */
  logger?: Logger;
}

/** The `locate.redis` section of the startup config. */
export type RedisLocatorConfig = DueConfig["locate"]["redis"];

/** Maps the `locate.redis` config section to {@linkcode RedisLocatorOptions}. */
export function redisLocatorOptionsFromConfig(section: Partial<RedisLocatorConfig>): RedisLocatorOptions {
  return {
    addrs: section.addrs,
    db: section.db,
    username: section.username || undefined,
    password: section.password || undefined,
    maxRetries: section.maxRetries,
    prefix: section.prefix,
  };
}

/** Counters of a Redis locator. */
export interface RedisLocatorStats {
  /** Lookups sent to Redis. */
  reads: number;
  /** Lookups that joined a read already in flight. */
  sharedReads: number;
  /** Events dropped because a watcher's queue was full. */
  droppedEvents: number;
  /** Messages on the event channels that were not valid events. */
  malformedEvents: number;
}

/** A Redis locator with its counters. */
export interface RedisLocator extends Locator {
  /** Counters since creation. */
  readonly stats: Readonly<RedisLocatorStats>;
}

interface Watcher extends EventQueue {
  kinds: ("gate" | "node")[];
  onReady: (() => void) | undefined;
}

type ScriptRunner = (...args: (string | number)[]) => Promise<number>;

/**
 * Connects a Redis locator: one connection for commands, one for the event subscription.
 *
 * @throws {DueError} `unavailable` (with `addr`) when Redis cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createRedisLocator } from "./redis.ts";
 * const locator = await createRedisLocator({ addrs: ["127.0.0.1:6379"] });
 * await locator.bindGate(1001, "gate-1");
 * console.log(await locator.locateGate(1001)); // "gate-1"
 * await locator.close();
 * ```
 */
export async function createRedisLocator(options: RedisLocatorOptions = {}): Promise<RedisLocator> {
  const { prefix = DEFAULT_REDIS_LOCATOR_PREFIX, addrs = DEFAULT_REDIS_ADDRS } = options;
  const { logger = createLogger({ attrs: { component: "locate.redis" } }) } = options;
  validateRedisOptions(options, "redis locator");
  checkPrefix(prefix, "redis locator");
  const keys = redisLocatorKeys(prefix);
  const channels = { gate: keys.channel("gate"), node: keys.channel("node") };
  const addr = addrs.join(",");
  const [client, sub] = await connectRedisPair(options, "redis locator", ["locate", "locate-sub"], logger);
  const run = (name: string, lua: string, numberOfKeys: number): ScriptRunner => {
    client.defineCommand(name, { lua, numberOfKeys });
    return (client as unknown as Record<string, ScriptRunner>)[name].bind(client);
  };
  const bindGateScript = run("dueLocateBindGate", BIND_GATE_SCRIPT, 1);
  const unbindGateScript = run("dueLocateUnbindGate", UNBIND_GATE_SCRIPT, 1);
  const bindNodeScript = run("dueLocateBindNode", BIND_NODE_SCRIPT, 1);
  const unbindNodeScript = run("dueLocateUnbindNode", UNBIND_NODE_SCRIPT, 1);

  const stats: RedisLocatorStats = { reads: 0, sharedReads: 0, droppedEvents: 0, malformedEvents: 0 };
  const watchers = new Set<Watcher>();
  const subscribed = { gate: 0, node: 0 };
  let closed = false;
  let lost = false;
  // uid → lookup key → the read in flight.
  const flights = new Map<number, Map<string, Promise<unknown>>>();

  function checkOpen(action: string): void {
    if (closed) throw new ClosedError(`Cannot ${action}: the redis locator is closed`, { addr });
  }
  function checkUid(uid: number, action: string): void {
    if (!Number.isSafeInteger(uid)) {
      throw new TypeError(`Cannot ${action} as 'uid' must be an integer: current value is ${uid}`);
    }
  }
  function checkId(value: string, field: string, action: string): void {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(
        `Cannot ${action} as '${field}' must be a non-empty string: current value is ${
          JSON.stringify(value)
        }`,
      );
    }
  }

  function once<T>(uid: number, key: string, load: () => Promise<T>): Promise<T> {
    let byKey = flights.get(uid);
    const shared = byKey?.get(key);
    if (shared) {
      stats.sharedReads++;
      return shared as Promise<T>;
    }
    stats.reads++;
    const read: Promise<T> = load().finally(() => {
      const current = flights.get(uid);
      if (current?.get(key) !== read) return;
      current.delete(key);
      if (current.size === 0) flights.delete(uid);
    });
    if (!byKey) flights.set(uid, byKey = new Map());
    byKey.set(key, read);
    return read;
  }

  async function write(uid: number, action: string, script: () => Promise<number>): Promise<void> {
    checkOpen(action);
    flights.delete(uid);
    try {
      await script();
    } catch (err) {
      throw redisError(err, action, addrs);
    } finally {
      flights.delete(uid);
    }
  }

  function writeGate(type: LocateEventType, uid: number, gid: string): Promise<void> {
    const bind = type === LocateEventType.BindGate;
    const action = bind ? "bind gate" : "unbind gate";
    checkUid(uid, action);
    checkId(gid, "gid", action);
    const event = encodeLocateEvent({ uid, type, insID: gid, insKind: "gate", insName: "gate" });
    const script = bind ? bindGateScript : unbindGateScript;
    return write(
      uid,
      `${action} ${gid} of uid ${uid}`,
      () => script(keys.gate(uid), gid, channels.gate, event),
    );
  }

  function writeNode(type: LocateEventType, uid: number, name: string, nid: string): Promise<void> {
    const bind = type === LocateEventType.BindNode;
    const action = bind ? "bind node" : "unbind node";
    checkUid(uid, action);
    checkId(name, "name", action);
    checkId(nid, "nid", action);
    const event = encodeLocateEvent({ uid, type, insID: nid, insKind: "node", insName: name });
    const script = bind ? bindNodeScript : unbindNodeScript;
    return write(
      uid,
      `${action} ${name} ${nid} of uid ${uid}`,
      () => script(keys.node(uid), name, nid, channels.node, event),
    );
  }

  async function locateGate(uid: number): Promise<string | undefined> {
    checkOpen("locate gate");
    checkUid(uid, "locate gate");
    try {
      return (await once(uid, "gate", () => client.get(keys.gate(uid)))) ?? undefined;
    } catch (err) {
      throw redisError(err, `locate the gate of uid ${uid}`, addrs);
    }
  }

  async function locateNode(uid: number, name: string): Promise<string | undefined> {
    checkOpen("locate node");
    checkUid(uid, "locate node");
    try {
      return (await once(uid, `node:${name}`, () => client.hget(keys.node(uid), name))) ?? undefined;
    } catch (err) {
      throw redisError(err, `locate the ${name} node of uid ${uid}`, addrs);
    }
  }

  async function locateNodes(uid: number): Promise<Record<string, string>> {
    checkOpen("locate nodes");
    checkUid(uid, "locate nodes");
    try {
      return { ...await once(uid, "nodes", () => client.hgetall(keys.node(uid))) };
    } catch (err) {
      throw redisError(err, `locate the nodes of uid ${uid}`, addrs);
    }
  }

  // --- watching -------------------------------------------------------------------------------------------

  sub.on("message", (channel: string, message: string) => {
    const kind = channel === channels.gate ? "gate" : channel === channels.node ? "node" : undefined;
    if (kind === undefined) return;
    const event = decodeLocateEvent(message);
    if (!event) {
      stats.malformedEvents++;
      logger.warn("redis locator skipped a malformed event", {
        addr,
        channel,
        message: message.slice(0, 200),
      });
      return;
    }
    for (const w of watchers) {
      if (!w.kinds.includes(kind)) continue;
      if (!pushEvent(w, event, REDIS_LOCATOR_WATCH_QUEUE)) stats.droppedEvents++;
    }
  });
  sub.on("close", () => lost = true);
  sub.on("ready", () => {
    if (!lost || closed) return;
    lost = false;
    // ioredis subscribes again on its own; this SUBSCRIBE answers after it, so the channels are live again.
    const live = (["gate", "node"] as const).filter((k) => subscribed[k] > 0).map((k) => channels[k]);
    if (live.length === 0) return;
    sub.subscribe(...live).then(
      () => {
        for (const w of watchers) if (!w.done) w.onReady?.();
      },
      (err) => logger.warn("redis locator resubscribe failed", { addr, error: errorMessage(err) }),
    );
  });

  function subscribe(w: Watcher): void {
    const fresh = w.kinds.filter((k) => subscribed[k]++ === 0).map((k) => channels[k]);
    const wanted = fresh.length > 0 ? fresh : [channels[w.kinds[0]]];
    // Re-subscribing a channel already subscribed is a no-op in Redis whose answer comes after every earlier
    // subscription's, so it also tells when the channels of this watcher are live.
    sub.subscribe(...wanted).then(
      () => !w.done && w.onReady?.(),
      (err) =>
        logger.warn("redis locator subscribe failed", {
          addr,
          channels: wanted,
          error: errorMessage(err),
        }),
    );
  }

  function unsubscribe(w: Watcher): void {
    const gone = w.kinds.filter((k) => --subscribed[k] === 0).map((k) => channels[k]);
    if (gone.length > 0 && !closed) sub.unsubscribe(...gone).catch(() => {});
  }

  function watch(kinds: ("gate" | "node")[], options: LocateWatchOptions = {}): AsyncIterable<LocateEvent> {
    const wanted = [...new Set(kinds)];
    if (wanted.length === 0 || wanted.some((k) => k !== "gate" && k !== "node")) {
      throw new TypeError(
        `Cannot watch locations as 'kinds' must list "gate" and/or "node": current value is ${
          JSON.stringify(kinds)
        }`,
      );
    }
    const { signal, onReady } = options;
    const w: Watcher = { kinds: wanted, queue: [], wake: undefined, done: false, onReady };
    const end = () => {
      if (w.done) return;
      w.done = true;
      signal?.removeEventListener("abort", end);
      if (watchers.delete(w)) unsubscribe(w);
      w.wake?.();
    };
    if (closed || signal?.aborted) w.done = true;
    else {
      watchers.add(w);
      signal?.addEventListener("abort", end);
      subscribe(w);
    }
    return iterateEvents(w, end);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const w of [...watchers]) {
      w.done = true;
      watchers.delete(w);
      w.wake?.();
    }
    await Promise.all([closeRedis(sub), closeRedis(client)]);
  }

  return {
    name: "redis",
    get stats() {
      return { ...stats };
    },
    bindGate: (uid, gid) => writeGate(LocateEventType.BindGate, uid, gid),
    unbindGate: (uid, gid) => writeGate(LocateEventType.UnbindGate, uid, gid),
    locateGate,
    bindNode: (uid, name, nid) => writeNode(LocateEventType.BindNode, uid, name, nid),
    unbindNode: (uid, name, nid) => writeNode(LocateEventType.UnbindNode, uid, name, nid),
    locateNode,
    locateNodes,
    watch,
    close,
  } satisfies RedisLocator;
}

/**
 * The Nacos registry (due's `registry/nacos`), over Nacos's v1 HTTP open API (Nacos 1.x and 2.x; see
 * `../_nacos.ts` for the client, its fail-over across `urls` and its login). Each instance is an ephemeral Nacos
 * instance of the service named after its role (`gate`, `node`, `mesh`) in `groupName`, cluster `clusterName`,
 * namespace `namespaceId`, at the host and port of its endpoint, with the record in its `metadata` (see
 * `_nacos_meta.ts`).
 *
 * - Heartbeats go right after registering and then every `clientBeatInterval` the server announces (5 s by
 *   default), the first one carrying the whole instance, later ones light when the server allows it. When the
 *   server answers that it does not know the instance (code 20404: it restarted, or dropped the instance after
 *   missed beats), the instance is registered again. A process that dies stops beating: Nacos marks its instances unhealthy after 15 s and
 *   removes them after 30 s (its defaults).
 * - Nacos identifies an instance by `ip:port` within its service: two records of one service with one endpoint
 *   are one instance. A registry refuses to register a second id at an endpoint it already registered.
 * - `services()` and `watch()` list healthy, enabled instances only, sorted by id; a watch polls
 *   `instance/list` every `watchIntervalMs` and yields a list only when it changed (Nacos's UDP push is not used).
 *
 * @module
 */
import type { KindName, ServiceInstance } from "../../core/cluster.ts";
import { ClosedError, DueError, ErrorCode, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import type { DueConfig } from "../../config/schema.ts";
import { NacosClient, type NacosConnectionOptions, refuseUnsupportedNacosKeys } from "../_nacos.ts";
import { endpointHostPort } from "./_flat_record.ts";
import { NACOS_METADATA_MAX_LENGTH, toNacosMetadata } from "./_nacos_meta.ts";
import { unflattenRecord } from "./_flat_record.ts";
import { backoffDelayMs, sleep } from "../_retry.ts";
import type { Registry, WatchOptions } from "./types.ts";
import { HeartbeatRounds } from "./_heartbeat.ts";
import { runWatch } from "./_watch.ts";
import { checkPositive } from "../_options.ts";

/** Cluster of the instances when none is given, as due's. */
export const DEFAULT_NACOS_CLUSTER_NAME = "DEFAULT";
/** Group of the services when none is given, as due's. */
export const DEFAULT_NACOS_GROUP_NAME = "DEFAULT_GROUP";
/** Heartbeat interval until the server announces its own, in ms (Nacos's 5 s). */
export const DEFAULT_NACOS_HEARTBEAT_INTERVAL_MS = 5_000;
/** Interval of a watch's `instance/list` polls, in ms. */
export const DEFAULT_NACOS_WATCH_INTERVAL_MS = 1_000;
/** The server's code for "no such instance" in a heartbeat answer. */
const RESOURCE_NOT_FOUND = 20404;
/** First wait of the watch back-off after a failed poll, in ms. */
const BACKOFF_BASE_MS = 200;
/** Longest wait of the watch back-off, in ms. */
const BACKOFF_CAP_MS = 5_000;
/** Group and service names Nacos accepts (its default parameter check). */
const NAME_REGEXP = /^[A-Za-z0-9_.:-]+$/;

/** Options of {@linkcode createNacosRegistry}: due's `registry.nacos` keys, durations in ms. */
export interface NacosRegistryOptions extends NacosConnectionOptions {
  /** Namespace id; empty = Nacos's default namespace. @default "" */
  namespaceId?: string;
  /** Cluster of the instances registered and listed. @default "DEFAULT" */
  clusterName?: string;
  /** Group of the services. @default "DEFAULT_GROUP" */
  groupName?: string;
  /** Heartbeat interval until the server announces its `clientBeatInterval`, in ms. @default 5000 */
  heartbeatIntervalMs?: number;
  /** Interval of a watch's polls, in ms. @default 1000 */
  watchIntervalMs?: number;
  /** The server's limit on an instance's metadata in characters (`0` = none, before Nacos 2.3). @default 1024 */
  maxMetadataLength?: number;
  /** Where heartbeat and watch trouble is logged. @default a console logger */
  logger?: Logger;
}

/** The `registry.nacos` section of the startup config (due's key names). */
export type NacosRegistryConfig = DueConfig["registry"]["nacos"];

/**
 * Maps the `registry.nacos` config section to {@linkcode NacosRegistryOptions}. `logLevel` sets the level of the
 * registry's own log lines.
 *
 * @throws {TypeError} naming a key of due's Go SDK that this client cannot honour (`endpoint`, `regionId`,
 *   `accessKey`, `secretKey`, `openKMS`, `cacheDir`, `logDir` set to anything but their do-nothing defaults)
 */
export function nacosRegistryOptionsFromConfig(section: Partial<NacosRegistryConfig>): NacosRegistryOptions {
  refuseUnsupportedNacosKeys(section, "registry.nacos");
  return {
    urls: section.urls,
    namespaceId: section.namespaceId,
    clusterName: section.clusterName,
    groupName: section.groupName,
    timeoutMs: section.timeout,
    username: section.username,
    password: section.password,
    maxMetadataLength: section.maxMetadataLength,
    logger: section.logLevel === undefined
      ? undefined
      : createLogger({ level: section.logLevel, attrs: { component: "registry.nacos" } }),
  };
}

/** A host of `instance/list`, as far as it is read here. */
interface NacosHost {
  ip?: string;
  port?: number;
  healthy?: boolean;
  enabled?: boolean;
  metadata?: Record<string, string> | null;
}

/** An instance this registry keeps alive. */
interface Entry {
  id: string;
  name: string;
  ip: string;
  port: number;
  weight: number;
  metadata: Record<string, string>;
  /** The server accepts heartbeats without the instance. */
  light: boolean;
}

function checkNacosName(what: string, key: string, value: unknown, allowEmpty = false): void {
  if (typeof value !== "string" || (value === "" ? !allowEmpty : !NAME_REGEXP.test(value))) {
    throw new TypeError(
      `Cannot create ${what} as '${key}' must be letters, digits, '_', '-', '.' or ':': current value is ${
        JSON.stringify(value)
      }`,
    );
  }
}

/**
 * Connects a Nacos registry; fails if no server answers (or the login is refused).
 *
 * @throws {TypeError | RangeError} for bad options
 * @throws {DueError} `unavailable` (with `addr`) when no server can be reached
 *
 * @example
 * ```ts ignore
 * import { createNacosRegistry } from "./nacos.ts";
 * const registry = await createNacosRegistry({ urls: ["http://127.0.0.1:8848/nacos"] });
 * for await (const nodes of registry.watch("node")) console.log(nodes.map((n) => n.id));
 * ```
 */
export async function createNacosRegistry(options: NacosRegistryOptions = {}): Promise<Registry> {
  const what = "nacos registry";
  const {
    namespaceId = "",
    clusterName = DEFAULT_NACOS_CLUSTER_NAME,
    groupName = DEFAULT_NACOS_GROUP_NAME,
    heartbeatIntervalMs = DEFAULT_NACOS_HEARTBEAT_INTERVAL_MS,
    watchIntervalMs = DEFAULT_NACOS_WATCH_INTERVAL_MS,
    maxMetadataLength = NACOS_METADATA_MAX_LENGTH,
    logger: log = createLogger({ attrs: { component: "registry.nacos" } }),
  } = options;
  checkNacosName(what, "namespaceId", namespaceId, true);
  checkNacosName(what, "clusterName", clusterName);
  checkNacosName(what, "groupName", groupName);
  checkPositive(heartbeatIntervalMs, "heartbeatIntervalMs", what);
  checkPositive(watchIntervalMs, "watchIntervalMs", what);
  if (!(Number.isInteger(maxMetadataLength) && maxMetadataLength >= 0)) {
    throw new RangeError(
      `Cannot create ${what} as 'maxMetadataLength' must be an integer >= 0: current value is ${maxMetadataLength}`,
    );
  }
  const client = new NacosClient(options, what);
  const { addr } = client;
  const namespace = namespaceId === "" ? undefined : namespaceId;

  const closing = new AbortController();
  let closed = false;
  /** Registered instances by `<service>|<ip>:<port>`: the desired state the heartbeat keeps alive. */
  const registered = new Map<string, Entry>();
  let beatIntervalMs = heartbeatIntervalMs;
  const tasks = new Set<Promise<unknown>>();
  const track = <T>(task: Promise<T>): Promise<T> => {
    tasks.add(task);
    task.finally(() => tasks.delete(task)).catch(() => {});
    return task;
  };

  function checkOpen(action: string): void {
    if (closed) throw new ClosedError(`Cannot ${action}: the nacos registry is closed`, { addr });
  }
  function checkName(name: unknown, action: string): void {
    if (typeof name !== "string" || !NAME_REGEXP.test(name)) {
      throw new TypeError(
        `Cannot ${action} as the service name must be letters, digits, '_', '-', '.' or ':': current value is ${
          JSON.stringify(name)
        }`,
      );
    }
  }
  function target(instance: ServiceInstance, action: string): { ip: string; port: number } {
    const found = endpointHostPort(instance?.endpoint);
    if (!found) {
      throw new TypeError(
        `Cannot ${action} ${instance?.id} in Nacos as its endpoint has no host:port: current value is ${
          JSON.stringify(instance?.endpoint)
        }`,
      );
    }
    return { ip: found.host, port: found.port };
  }
  const keyOf = (name: string, ip: string, port: number) => `${name}|${ip}:${port}`;
  /** Parameters naming an instance, as every naming request takes them. */
  const where = (entry: Pick<Entry, "name" | "ip" | "port">) => ({
    serviceName: entry.name,
    groupName,
    clusterName,
    namespaceId: namespace,
    ip: entry.ip,
    port: String(entry.port),
  });

  const post = (entry: Entry, signal?: AbortSignal) =>
    client.request("POST", "/v1/ns/instance", {
      query: {
        ...where(entry),
        weight: String(entry.weight),
        enabled: "true",
        healthy: "true",
        ephemeral: "true",
        metadata: JSON.stringify(entry.metadata),
      },
      signal,
    });

  const remove = (entry: Pick<Entry, "name" | "ip" | "port">) =>
    // 404 from servers that answer so for a service they never had: nothing left to remove.
    client.request("DELETE", "/v1/ns/instance", {
      query: { ...where(entry), ephemeral: "true" },
      accept: [404],
    });

  async function register(instance: ServiceInstance): Promise<void> {
    checkOpen("register instance");
    checkName(instance?.name, "register instance");
    const { ip, port } = target(instance, "register instance");
    const metadata = toNacosMetadata(instance, maxMetadataLength);
    const key = keyOf(instance.name, ip, port);
    const holder = registered.get(key);
    if (holder && holder.id !== instance.id) {
      throw new DueError(
        ErrorCode.IllegalRequest,
        `Cannot register instance ${instance.id} in Nacos as instance ${holder.id} of service ${instance.name} is registered at ${ip}:${port}, and Nacos identifies instances by ip:port`,
        { addr, instanceId: instance.id },
      );
    }
    const entry: Entry = {
      id: instance.id,
      name: instance.name,
      ip,
      port,
      weight: Math.max(instance.weight, 1),
      metadata,
      light: false,
    };
    await track(post(entry));
    if (closed) return;
    registered.set(key, entry);
    heartbeats.schedule(true);
    // The same id at another endpoint: its old instance is not this one any more.
    for (const [other, old] of registered) {
      if (other === key || old.id !== entry.id || old.name !== entry.name) continue;
      registered.delete(other);
      await track(remove(old)).catch((err) =>
        log.warn("nacos registry could not remove a moved instance", {
          addr,
          instanceId: old.id,
          error: errorMessage(err),
        })
      );
    }
  }

  async function deregister(instance: ServiceInstance): Promise<void> {
    checkOpen("deregister instance");
    checkName(instance?.name, "deregister instance");
    const found = endpointHostPort(instance?.endpoint);
    if (!found) return; // never registered: Nacos holds no instance without host and port
    const entry = { name: instance.name, ip: found.host, port: found.port };
    const key = keyOf(entry.name, entry.ip, entry.port);
    const holder = registered.get(key);
    if (holder && holder.id !== instance.id) return; // another id holds that endpoint now
    registered.delete(key);
    await track(remove(entry));
  }

  const heartbeats = new HeartbeatRounds({
    backend: "nacos",
    addr,
    log,
    registered,
    /** Sends the instance's heartbeat (light once the server allows it); registers it again when forgotten. */
    async beat(key, entry) {
      const beat = entry.light ? undefined : JSON.stringify({
        serviceName: `${groupName}@@${entry.name}`,
        cluster: clusterName,
        ip: entry.ip,
        port: entry.port,
        weight: entry.weight,
        ephemeral: true,
        metadata: entry.metadata,
      });
      const res = await client.request("PUT", "/v1/ns/instance/beat", {
        query: where(entry),
        form: beat === undefined ? undefined : { beat },
        signal: closing.signal,
      });
      const body = client.json<
        { clientBeatInterval?: unknown; code?: unknown; lightBeatEnabled?: unknown }
      >(
        res,
        "send a heartbeat",
      );
      if (typeof body.clientBeatInterval === "number" && body.clientBeatInterval > 0) {
        beatIntervalMs = body.clientBeatInterval;
      }
      entry.light = body.lightBeatEnabled === true;
      if (body.code !== RESOURCE_NOT_FOUND || registered.get(key) !== entry) return;
      log.warn("nacos server lost an instance; registering it again", {
        addr,
        service: entry.name,
        instanceId: entry.id,
      });
      await post(entry, closing.signal);
    },
    describe: (_key, entry) => ({ service: entry.name, instanceId: entry.id }),
    delayMs: () => beatIntervalMs,
    closed: () => closed,
    track,
  });

  /** Lists the healthy, enabled instances of `name`, sorted by id. */
  async function query(name: string, signal: AbortSignal): Promise<ServiceInstance[]> {
    const res = await client.request("GET", "/v1/ns/instance/list", {
      query: {
        serviceName: name,
        groupName,
        clusters: clusterName,
        namespaceId: namespace,
        healthyOnly: "true",
      },
      signal,
      accept: [404], // older servers: no such service yet
    });
    if (res.status === 404) return [];
    const body = client.json<{ hosts?: unknown }>(res, "list instances");
    const hosts = Array.isArray(body?.hosts) ? body.hosts as NacosHost[] : [];
    const byId = new Map<string, ServiceInstance>();
    for (const host of hosts) {
      if (host?.healthy === false || host?.enabled === false) continue;
      try {
        const instance = unflattenRecord(host?.metadata ?? {}, name);
        byId.set(instance.id, instance);
      } catch (err) {
        log.warn("nacos registry skipped a malformed instance", {
          addr,
          service: name,
          host: `${host?.ip}:${host?.port}`,
          error: errorMessage(err),
        });
      }
    }
    return [...byId.keys()].sort().map((id) => byId.get(id)!);
  }

  async function services(name: KindName): Promise<ServiceInstance[]> {
    checkOpen("list services");
    checkName(name, "list services");
    return await track(query(name, closing.signal));
  }

  async function watchLoop(name: string, push: (list: ServiceInstance[]) => void, stop: AbortSignal) {
    for (let failures = 0; !stop.aborted;) {
      try {
        const list = await query(name, stop);
        if (failures > 0) log.info("nacos registry watch recovered", { addr, service: name });
        failures = 0;
        push(list);
        await sleep(watchIntervalMs, stop);
      } catch (err) {
        if (stop.aborted) return;
        failures++;
        if (failures === 1) {
          log.warn("nacos registry watch failed; polling again", {
            addr,
            service: name,
            error: errorMessage(err),
          });
        }
        await sleep(
          Math.max(watchIntervalMs, backoffDelayMs(failures, BACKOFF_BASE_MS, BACKOFF_CAP_MS)),
          stop,
        );
      }
    }
  }

  function watch(name: KindName, options: WatchOptions = {}): AsyncIterable<ServiceInstance[]> {
    checkName(name, "watch services");
    return runWatch((push, stop) => watchLoop(name, push, stop), options.signal, closing.signal, track);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    closing.abort();
    heartbeats.stop();
    await Promise.allSettled([...tasks]);
  }

  // Proves a server answers, the login works and the namespace can be read.
  await client.request("GET", "/v1/ns/instance/list", {
    query: {
      serviceName: "gate",
      groupName,
      clusters: clusterName,
      namespaceId: namespace,
      healthyOnly: "true",
    },
    accept: [404],
  });
  return { name: "nacos", register, deregister, services, watch, close } satisfies Registry;
}

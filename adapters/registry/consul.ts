/**
 * The Consul registry (due's `registry/consul`), over the agent's HTTP API. Each instance is an agent service
 * `<name>-<id>` whose `Meta` holds the record in due's layout (see `_consul_meta.ts`), with due's two checks:
 *
 * - a TCP health check on the instance's endpoint (`healthCheck`), run by the agent;
 * - a TTL heartbeat check `service:<service id>` (`heartbeatCheck`) that this registry passes every half
 *   interval. When the agent no longer knows the check (it restarted empty, or reaped the service after
 *   `deregisterCriticalServiceAfter`), the instance is registered again.
 *
 * Both checks start passing, so an instance is listed as soon as it registers. A process that dies stops passing
 * its heartbeat: the instance leaves every list after one heartbeat interval, and the agent removes it after
 * `deregisterCriticalServiceAfter`. `services()` and `watch()` list passing instances only, sorted by id; a watch
 * follows Consul blocking queries on `/v1/health/service/<name>` and yields a list only when it changed.
 *
 * @module
 */
import type { KindName, ServiceInstance } from "../../core/cluster.ts";
import { ClosedError, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import type { DueConfig } from "../../config/schema.ts";
import { ConsulClient, type ConsulConnectionOptions, nextConsulIndex } from "../_consul.ts";
import { consulServiceId, consulServiceName, fromConsulService, toConsulService } from "./_consul_meta.ts";
import { backoffDelayMs, sleep } from "../_retry.ts";
import type { Registry, WatchOptions } from "./types.ts";
import { HeartbeatRounds } from "./_heartbeat.ts";
import { runWatch } from "./_watch.ts";
import { checkPositive } from "../_options.ts";

/** Default interval of the agent's TCP check of an instance's endpoint, as due's (10 s). */
export const DEFAULT_CONSUL_HEALTH_CHECK_INTERVAL_MS = 10_000;
/** Default timeout of that TCP check, as due's (5 s). */
export const DEFAULT_CONSUL_HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Default TTL of the heartbeat check, passed every half of it, as due's (10 s). */
export const DEFAULT_CONSUL_HEARTBEAT_CHECK_INTERVAL_MS = 10_000;
/** Default time a critical instance stays before the agent removes it, as due's (30 s). */
export const DEFAULT_CONSUL_DEREGISTER_CRITICAL_AFTER_MS = 30_000;
/** Default longest wait of one blocking query of a watch, as due's (60 s). */
export const DEFAULT_CONSUL_WATCH_WAIT_S = 60;
/** First wait of the watch back-off after a failed query, in ms. */
const BACKOFF_BASE_MS = 200;
/** Longest wait of the watch back-off, in ms. */
const BACKOFF_CAP_MS = 5_000;

/** Options of {@linkcode createConsulRegistry}: due's `registry.consul` keys, durations in ms. */
export interface ConsulRegistryOptions extends ConsulConnectionOptions {
  /**
   * Prefix of the Consul service names (`<namespace>-node`), so several clusters can share one Consul (ours;
   * due has none). @default "" (due's plain names `gate`, `node`, `mesh`)
   */
  namespace?: string;
  /** Register a TCP check of the instance's endpoint. @default true */
  healthCheck?: boolean;
  /** Interval of the TCP check, in ms. @default 10000 */
  healthCheckIntervalMs?: number;
  /** Timeout of the TCP check, in ms. @default 5000 */
  healthCheckTimeoutMs?: number;
  /** Register a TTL check and pass it while the instance is registered. @default true */
  heartbeatCheck?: boolean;
  /** TTL of the heartbeat check, in ms; it is passed every half of it. @default 10000 */
  heartbeatCheckIntervalMs?: number;
  /** How long an instance may stay critical before the agent removes it, in ms. @default 30000 */
  deregisterCriticalServiceAfterMs?: number;
  /** Longest wait of one blocking query, in seconds. @default 60 */
  watchWaitS?: number;
  /** Where heartbeat and watch trouble is logged. @default a console logger */
  logger?: Logger;
}

/** The `registry.consul` section of the startup config (due's key names; its intervals are seconds). */
export type ConsulRegistryConfig = DueConfig["registry"]["consul"];

/** Maps the `registry.consul` config section to {@linkcode ConsulRegistryOptions}. */
export function consulRegistryOptionsFromConfig(
  section: Partial<ConsulRegistryConfig>,
): ConsulRegistryOptions {
  const ms = (seconds: number | undefined) => seconds === undefined ? undefined : seconds * 1_000;
  return {
    addr: section.addr,
    token: section.token || undefined,
    namespace: section.namespace,
    healthCheck: section.healthCheck,
    healthCheckIntervalMs: ms(section.healthCheckInterval),
    healthCheckTimeoutMs: ms(section.healthCheckTimeout),
    heartbeatCheck: section.heartbeatCheck,
    heartbeatCheckIntervalMs: ms(section.heartbeatCheckInterval),
    deregisterCriticalServiceAfterMs: ms(section.deregisterCriticalServiceAfter),
  };
}

/** A health entry of `/v1/health/service/<name>`, as far as it is read here. */
interface HealthEntry {
  Service?: { ID?: string; Service?: string; Meta?: Record<string, string> | null };
}

/**
 * Connects a Consul registry; fails if the agent does not answer.
 *
 * @throws {TypeError | RangeError} for bad options
 * @throws {DueError} `unavailable` (with `addr`) when the agent cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createConsulRegistry } from "./consul.ts";
 * const registry = await createConsulRegistry({ addr: "127.0.0.1:8500" });
 * for await (const nodes of registry.watch("node")) console.log(nodes.map((n) => n.id));
 * ```
 */
export async function createConsulRegistry(options: ConsulRegistryOptions = {}): Promise<Registry> {
  const what = "consul registry";
  const {
    namespace = "",
    healthCheck = true,
    healthCheckIntervalMs = DEFAULT_CONSUL_HEALTH_CHECK_INTERVAL_MS,
    healthCheckTimeoutMs = DEFAULT_CONSUL_HEALTH_CHECK_TIMEOUT_MS,
    heartbeatCheck = true,
    heartbeatCheckIntervalMs = DEFAULT_CONSUL_HEARTBEAT_CHECK_INTERVAL_MS,
    deregisterCriticalServiceAfterMs = DEFAULT_CONSUL_DEREGISTER_CRITICAL_AFTER_MS,
    watchWaitS = DEFAULT_CONSUL_WATCH_WAIT_S,
    logger: log = createLogger({ attrs: { component: "registry.consul" } }),
  } = options;
  if (typeof namespace !== "string" || !/^[A-Za-z0-9_-]*$/.test(namespace)) {
    throw new TypeError(
      `Cannot create ${what} as 'namespace' must be letters, digits, '_' or '-': current value is ${
        JSON.stringify(namespace)
      }`,
    );
  }
  checkPositive(healthCheckIntervalMs, "healthCheckIntervalMs", what);
  checkPositive(healthCheckTimeoutMs, "healthCheckTimeoutMs", what);
  checkPositive(heartbeatCheckIntervalMs, "heartbeatCheckIntervalMs", what);
  checkPositive(deregisterCriticalServiceAfterMs, "deregisterCriticalServiceAfterMs", what);
  checkPositive(watchWaitS, "watchWaitS", what);
  const client = new ConsulClient(options, what);
  const { addr } = client;

  const closing = new AbortController();
  let closed = false;
  /** Registered instances by Consul service id: the desired state the heartbeat keeps alive. */
  const registered = new Map<string, Record<string, unknown>>();
  const tasks = new Set<Promise<unknown>>();
  const track = <T>(task: Promise<T>): Promise<T> => {
    tasks.add(task);
    task.finally(() => tasks.delete(task)).catch(() => {});
    return task;
  };

  function checkOpen(action: string): void {
    if (closed) throw new ClosedError(`Cannot ${action}: the consul registry is closed`, { addr });
  }
  function checkName(name: unknown, action: string): void {
    if (typeof name !== "string" || !/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new TypeError(
        `Cannot ${action} as the service name must be letters, digits, '_' or '-': current value is ${
          JSON.stringify(name)
        }`,
      );
    }
  }

  const checkIdOf = (serviceId: string) => `service:${serviceId}`;

  /** The agent registration body of an instance, with due's checks. */
  function registration(instance: ServiceInstance): { id: string; body: Record<string, unknown> } {
    checkName(instance?.name, "register instance");
    const fields = toConsulService(instance, namespace);
    const checks: Record<string, unknown>[] = [];
    const deregisterAfter = `${deregisterCriticalServiceAfterMs}ms`;
    if (healthCheck && fields.Port > 0) {
      const host = fields.Address;
      checks.push({
        Name: "endpoint",
        TCP: host.includes(":") ? `[${host}]:${fields.Port}` : `${host}:${fields.Port}`,
        Interval: `${healthCheckIntervalMs}ms`,
        Timeout: `${healthCheckTimeoutMs}ms`,
        DeregisterCriticalServiceAfter: deregisterAfter,
        Status: "passing",
      });
    }
    if (heartbeatCheck) {
      checks.push({
        CheckID: checkIdOf(fields.ID),
        Name: "heartbeat",
        TTL: `${heartbeatCheckIntervalMs}ms`,
        DeregisterCriticalServiceAfter: deregisterAfter,
        Status: "passing",
      });
    }
    return { id: fields.ID, body: { ...fields, Checks: checks } };
  }

  const put = (body: Record<string, unknown>, signal?: AbortSignal) =>
    client.request("PUT", "/v1/agent/service/register", {
      query: { "replace-existing-checks": "true" },
      body,
      signal,
    });

  async function register(instance: ServiceInstance): Promise<void> {
    checkOpen("register instance");
    const { id, body } = registration(instance);
    await track(put(body));
    if (closed) return;
    registered.set(id, body);
    if (heartbeatCheck) heartbeats.schedule();
  }

  async function deregister(instance: ServiceInstance): Promise<void> {
    checkOpen("deregister instance");
    checkName(instance?.name, "deregister instance");
    const id = consulServiceId(instance);
    registered.delete(id);
    // 404: the agent does not know it (never registered, or already reaped): nothing left to remove.
    await track(
      client.request("PUT", `/v1/agent/service/deregister/${encodeURIComponent(id)}`, { accept: [404] }),
    );
  }

  const heartbeats = new HeartbeatRounds({
    backend: "consul",
    addr,
    log,
    registered,
    /** Passes the instance's TTL check; registers it again when the agent forgot it. */
    async beat(id, body) {
      const res = await client.request("PUT", `/v1/agent/check/pass/${encodeURIComponent(checkIdOf(id))}`, {
        query: { note: "passed" },
        accept: [404, 500],
        signal: closing.signal,
      });
      if (res.status === 200 || registered.get(id) !== body) return;
      // 404 (or 500 from older agents): the agent no longer has the check.
      log.warn("consul agent lost an instance; registering it again", { addr, service: id });
      await put(body, closing.signal);
    },
    describe: (id) => ({ service: id }),
    delayMs: () => Math.max(Math.floor(heartbeatCheckIntervalMs / 2), 50),
    closed: () => closed,
    track,
  });

  /** Lists the passing instances of `name` (a blocking query when `index` is given). */
  async function query(
    name: string,
    index: number | undefined,
    signal: AbortSignal,
  ): Promise<{ list: ServiceInstance[]; index: number }> {
    const res = await client.request(
      "GET",
      `/v1/health/service/${encodeURIComponent(consulServiceName(namespace, name))}`,
      {
        query: { passing: "true" },
        index,
        waitS: watchWaitS,
        signal,
      },
    );
    const entries = Array.isArray(res.body) ? res.body as HealthEntry[] : [];
    const byId = new Map<string, ServiceInstance>();
    for (const entry of entries) {
      try {
        if (!entry?.Service || typeof entry.Service.Service !== "string") throw new TypeError("no Service");
        const instance = fromConsulService(entry.Service as { Service: string }, namespace);
        byId.set(entry.Service.ID ?? consulServiceId(instance), instance);
      } catch (err) {
        log.warn("consul registry skipped a malformed service", {
          addr,
          service: entry?.Service?.ID,
          error: errorMessage(err),
        });
      }
    }
    const list = [...byId.keys()].sort().map((id) => byId.get(id)!);
    return { list, index: res.index };
  }

  async function services(name: KindName): Promise<ServiceInstance[]> {
    checkOpen("list services");
    checkName(name, "list services");
    return (await track(query(name, undefined, closing.signal))).list;
  }

  async function watchLoop(name: string, push: (list: ServiceInstance[]) => void, stop: AbortSignal) {
    let index: number | undefined;
    for (let failures = 0; !stop.aborted;) {
      try {
        const result = await query(name, index, stop);
        index = nextConsulIndex(index ?? 0, result.index);
        failures = 0;
        push(result.list);
      } catch (err) {
        if (stop.aborted) return;
        failures++;
        index = undefined;
        log.warn("consul registry watch failed; watching again", {
          addr,
          service: name,
          attempt: failures,
          error: errorMessage(err),
        });
        await sleep(backoffDelayMs(failures, BACKOFF_BASE_MS, BACKOFF_CAP_MS), stop);
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

  await client.ping();
  return { name: "consul", register, deregister, services, watch, close } satisfies Registry;
}

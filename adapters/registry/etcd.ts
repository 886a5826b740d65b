/**
 * The etcd registry (due's `registry/etcd`). An instance is the key `/<namespace>/<name>/<id>` whose value is the
 * instance JSON (PROTOCOL.md §3), held by one lease per registry with TTL = `retryInterval` + 1 s, kept alive
 * every TTL/3. When the lease is lost (etcd restarted, network down longer than the TTL) a background loop grants
 * a new lease and puts every registered instance again, with capped exponential back-off and jitter, until it
 * succeeds or the registry closes. A watch lists the prefix `/<namespace>/<name>/`, yields the full list, then
 * follows a prefix watch from the listed revision; after a reconnect it lists and watches again, so it also
 * survives an etcd that came back empty. Records that are not valid instances are skipped with a warning.
 *
 * This file is longer than ~400 lines would suggest only because lease keeping and watching share one client
 * and one error policy; splitting them would spread one state machine over two files.
 *
 * @module
 */
import {
  castGrpcError,
  Etcd3,
  EtcdLeaseInvalidError,
  type IKeyValue,
  type IOptions,
  isRecoverableError,
  type Watcher,
} from "etcd3";
import type { KindName, ServiceInstance } from "../../core/cluster.ts";
import { parseServiceInstance } from "../../core/cluster.ts";
import { ClosedError, DueError, ErrorCode, errorMessage } from "../../core/errors.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import type { DueConfig } from "../../config/schema.ts";
import { backoffDelayMs, sleep } from "../_retry.ts";
import type { Registry, WatchOptions } from "./types.ts";
import { runWatch } from "./_watch.ts";
import { checkAddrs } from "../_options.ts";

/** Default etcd addresses, as due's. */
export const DEFAULT_ETCD_REGISTRY_ADDRS: readonly string[] = ["127.0.0.1:2379"];
/** Default time to wait for the first answer of etcd, in ms. */
export const DEFAULT_ETCD_REGISTRY_DIAL_TIMEOUT_MS = 5_000;
/** Default key prefix: instances live under `/services/<name>/<id>`. */
export const DEFAULT_ETCD_REGISTRY_NAMESPACE = "services";
/** Default deadline of one etcd request, in ms. */
export const DEFAULT_ETCD_REGISTRY_TIMEOUT_MS = 3_000;
/** Default number of retries of a failed request, and of lease recoveries before the failure is logged as an error. */
export const DEFAULT_ETCD_REGISTRY_RETRY_TIMES = 3;
/** Default longest wait between two recovery attempts, in ms; the lease TTL is this plus one second. */
export const DEFAULT_ETCD_REGISTRY_RETRY_INTERVAL_MS = 10_000;
/** First wait of the recovery and watch back-off, in ms. */
export const ETCD_REGISTRY_BACKOFF_BASE_MS = 200;

/** Options of {@linkcode createEtcdRegistry}: due's `registry.etcd` keys, durations in ms. */
export interface EtcdRegistryOptions {
  /** etcd addresses, `host:port` or URLs. @default ["127.0.0.1:2379"] */
  addrs?: readonly string[];
  /** Time to wait for etcd's first answer when the registry is created, in ms. @default 5000 */
  dialTimeoutMs?: number;
  /** Key prefix (without slashes). @default "services" */
  namespace?: string;
  /** User name, when etcd has auth enabled; empty = no auth. */
  username?: string;
  /** Password. */
  password?: string;
  /** Deadline of each etcd request, in ms. @default 3000 */
  timeoutMs?: number;
  /**
   * Retries of a failed request (register, deregister, services) before it fails; also the number of failed lease
   * recoveries after which the failure is logged as an error (recovery itself never gives up). @default 3
   */
  retryTimes?: number;
  /** Longest wait between lease recovery attempts, in ms; the lease TTL is this + 1 s, rounded up. @default 10000 */
  retryIntervalMs?: number;
  /** Where lease and watch trouble is logged. @default a console logger */
  logger?: Logger;
}

/** The `registry.etcd` section of the startup config (due's key names, durations already in ms). */
export type EtcdRegistryConfig = DueConfig["registry"]["etcd"];

/** Maps the `registry.etcd` config section to {@linkcode EtcdRegistryOptions}. */
export function etcdRegistryOptionsFromConfig(section: Partial<EtcdRegistryConfig>): EtcdRegistryOptions {
  return {
    addrs: section.addrs,
    dialTimeoutMs: section.dialTimeout,
    namespace: section.namespace,
    username: section.username || undefined,
    password: section.password || undefined,
    timeoutMs: section.timeout,
    retryTimes: section.retryTimes,
    retryIntervalMs: section.retryInterval,
  };
}

type FaultHandling = NonNullable<IOptions["faultHandling"]>;
type CallOptions = { deadline: number };

// Retries and back-off are done here, once; etcd3's own retry and circuit breaker are switched off so that a
// restarted etcd is used as soon as it answers.
const PASS_THROUGH = {
  execute: <T>(fn: (context: unknown) => T | PromiseLike<T>) =>
    new Promise<T>((resolve) => resolve(fn({ signal: new AbortController().signal, attempt: 0 }))),
} as unknown as NonNullable<FaultHandling["global"]>;

function watchBackoff(attempt: number, capMs: number): NonNullable<FaultHandling["watchBackoff"]> {
  return {
    duration: backoffDelayMs(attempt, ETCD_REGISTRY_BACKOFF_BASE_MS, capMs),
    next: () => watchBackoff(attempt + 1, capMs),
  };
}

function fail(what: string, message: string, value: unknown, ErrorClass = RangeError): never {
  throw new ErrorClass(`Cannot ${what} as ${message}: current value is ${JSON.stringify(value)}`);
}

/**
 * Connects an etcd registry; fails if etcd does not answer within `dialTimeoutMs`.
 *
 * @throws {TypeError | RangeError} for bad options
 * @throws {DueError} `unavailable` (with `addr`) when etcd cannot be reached
 *
 * @example
 * ```ts ignore
 * import { createEtcdRegistry } from "./etcd.ts";
 * const registry = await createEtcdRegistry({ addrs: ["127.0.0.1:2379"] });
 * for await (const nodes of registry.watch("node")) console.log(nodes.map((n) => n.id));
 * ```
 */
export async function createEtcdRegistry(options: EtcdRegistryOptions = {}): Promise<Registry> {
  const { addrs = DEFAULT_ETCD_REGISTRY_ADDRS, dialTimeoutMs = DEFAULT_ETCD_REGISTRY_DIAL_TIMEOUT_MS } =
    options;
  const { namespace = DEFAULT_ETCD_REGISTRY_NAMESPACE, username = "", password = "" } = options;
  const { timeoutMs = DEFAULT_ETCD_REGISTRY_TIMEOUT_MS, retryTimes = DEFAULT_ETCD_REGISTRY_RETRY_TIMES } =
    options;
  const { retryIntervalMs = DEFAULT_ETCD_REGISTRY_RETRY_INTERVAL_MS } = options;
  const { logger: log = createLogger({ attrs: { component: "registry.etcd" } }) } = options;
  const what = "create etcd registry";
  checkAddrs(addrs, "etcd registry");
  if (typeof namespace !== "string" || namespace.replace(/^\/+|\/+$/g, "") === "") {
    fail(what, "'namespace' must be a non-empty string", namespace, TypeError);
  }
  if (typeof username !== "string") fail(what, "'username' must be a string", username, TypeError);
  if (typeof password !== "string") fail(what, "'password' must be a string", "***", TypeError);
  if (!(dialTimeoutMs > 0)) fail(what, "'dialTimeoutMs' must be > 0", dialTimeoutMs);
  if (!(timeoutMs > 0)) fail(what, "'timeoutMs' must be > 0", timeoutMs);
  if (!Number.isInteger(retryTimes) || retryTimes < 0) {
    fail(what, "'retryTimes' must be an integer >= 0", retryTimes);
  }
  if (!(retryIntervalMs >= 0 && retryIntervalMs <= 3_600_000)) {
    fail(what, "'retryIntervalMs' must be within [0, 3600000]", retryIntervalMs);
  }

  const addr = addrs.join(",");
  const root = `/${namespace.replace(/^\/+|\/+$/g, "")}/`;
  const ttlSeconds = Math.ceil((retryIntervalMs + 1_000) / 1_000);
  const keepAliveEveryMs = Math.max(Math.floor(ttlSeconds * 1_000 / 3), 100);
  const backoffCapMs = Math.max(retryIntervalMs, ETCD_REGISTRY_BACKOFF_BASE_MS);
  const etcdOptions: IOptions = {
    hosts: addrs.map((a) => a.includes("://") ? a : `http://${a}`),
    faultHandling: {
      host: () => PASS_THROUGH,
      global: PASS_THROUGH,
      watchBackoff: watchBackoff(0, backoffCapMs),
    },
    grpcOptions: { "grpc.initial_reconnect_backoff_ms": 200, "grpc.max_reconnect_backoff_ms": backoffCapMs },
  };
  if (username !== "") etcdOptions.auth = { username, password };
  const client = new Etcd3(etcdOptions);

  const closing = new AbortController();
  let closed = false;
  /** Registered instances: key → JSON value. The desired state; recovery puts all of them again. */
  const registered = new Map<string, string>();
  let lease: string | undefined;
  let leaseAliveAt = 0;
  let keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  let ticking: Promise<void> | undefined;
  let recovering: Promise<void> | undefined;
  const watchTasks = new Set<Promise<void>>();
  // Lease grants and writes run one at a time, so two callers never grant two leases.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  };

  const unavailable = (action: string, err: unknown) =>
    err instanceof DueError ? err : new DueError(
      ErrorCode.Unavailable,
      `Cannot ${action} on etcd at ${addr}: ${errorMessage(err)}`,
      { addr, cause: err },
    );

  /** Runs one request with a deadline, retrying recoverable failures up to `attempts - 1` times. */
  async function call<T>(
    action: string,
    fn: (o: CallOptions) => Promise<T>,
    attempts = retryTimes + 1,
  ): Promise<T> {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        await sleep(backoffDelayMs(attempt - 1, 100, 1_000), closing.signal);
        if (closed) break;
      }
      try {
        return await fn({ deadline: Date.now() + timeoutMs });
      } catch (err) {
        last = err;
        if (closed || !(err instanceof Error) || !isRecoverableError(err)) break;
      }
    }
    throw unavailable(action, last);
  }

  const grant = () =>
    call("grant a lease", (o) => client.leaseClient.leaseGrant({ TTL: ttlSeconds }, o)).then((r) => r.ID);
  const put = (key: string, value: string, id: string) =>
    call(`put ${key}`, (o) => client.put(key).value(value).lease(id).options(o).exec());
  const revoke = (id: string) =>
    call(`revoke lease ${id}`, (o) => client.leaseClient.leaseRevoke({ ID: id }, o), 1).catch(
      (err: DueError) => {
        if (!(err.cause instanceof EtcdLeaseInvalidError)) {
          log.debug("etcd lease revoke failed", { addr, lease: id, error: errorMessage(err) });
        }
      },
    );

  /** Sends one keep-alive; resolves the remaining TTL in seconds (0 = the lease is gone). */
  async function keepAliveOnce(id: string): Promise<number> {
    const stream = await client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    return await new Promise<number>((resolve, reject) => {
      stream.on("data", (res) => {
        resolve(Number(res.TTL));
        stream.end();
      });
      stream.on("error", (err) => reject(castGrpcError(err)));
      stream.on("end", () => reject(new Error("keep-alive stream ended without an answer")));
      stream.write({ ID: id });
    });
  }

  /** Grants a new lease and puts every registered instance with it; the old lease is revoked. */
  async function regrant(): Promise<void> {
    const old = lease;
    lease = undefined;
    if (registered.size === 0) {
      if (old !== undefined) await revoke(old);
      return;
    }
    const id = await grant();
    try {
      for (const [key, value] of registered) await put(key, value, id);
    } catch (err) {
      await revoke(id);
      throw err;
    }
    lease = id;
    leaseAliveAt = Date.now();
    if (old !== undefined) await revoke(old);
  }

  let nextDelayMs = keepAliveEveryMs;
  let keepAliveFailing = false;
  function scheduleKeepAlive(delayMs = keepAliveEveryMs): void {
    if (closed || keepAliveTimer !== undefined || ticking || recovering || registered.size === 0) return;
    keepAliveTimer = setTimeout(() => {
      keepAliveTimer = undefined;
      ticking = keepAliveTick().finally(() => {
        ticking = undefined;
        scheduleKeepAlive(nextDelayMs);
      });
    }, delayMs);
  }

  async function keepAliveTick(): Promise<void> {
    nextDelayMs = keepAliveEveryMs;
    const id = lease;
    if (closed || registered.size === 0) return;
    if (id === undefined) return recover("no lease");
    try {
      const ttl = await keepAliveOnce(id);
      if (id !== lease) return;
      if (ttl > 0) {
        leaseAliveAt = Date.now();
        if (keepAliveFailing) log.info("etcd lease keep-alive recovered", { addr, lease: id });
        keepAliveFailing = false;
        return;
      }
      recover("lease expired");
    } catch (err) {
      if (closed || id !== lease) return;
      if (Date.now() - leaseAliveAt >= ttlSeconds * 1_000) return recover(errorMessage(err));
      // One warning per outage; retried quickly until the lease would have expired.
      if (!keepAliveFailing) {
        log.warn("etcd lease keep-alive failed", { addr, lease: id, error: errorMessage(err) });
      }
      keepAliveFailing = true;
      nextDelayMs = Math.min(1_000, keepAliveEveryMs);
    }
  }

  /** Starts the background loop that grants a new lease and puts every instance again. */
  function recover(reason: string): void {
    if (recovering || closed) return;
    keepAliveFailing = false;
    log.warn("etcd lease lost; registering again", { addr, reason, instances: registered.size });
    recovering = (async () => {
      for (let attempt = 1; !closed && registered.size > 0; attempt++) {
        try {
          await serial(regrant);
          log.info("etcd registrations restored", { addr, instances: registered.size, attempts: attempt });
          return;
        } catch (err) {
          const attrs = { addr, attempt, error: errorMessage(err) };
          if (attempt === Math.max(retryTimes, 1)) log.error("etcd registrations still not restored", attrs);
          else log.warn("etcd re-register failed", attrs);
          await sleep(backoffDelayMs(attempt, ETCD_REGISTRY_BACKOFF_BASE_MS, backoffCapMs), closing.signal);
        }
      }
    })().finally(() => {
      recovering = undefined;
      scheduleKeepAlive();
    });
  }

  function checkOpen(action: string): void {
    if (closed) throw new ClosedError(`Cannot ${action}: the etcd registry is closed`, { addr });
  }
  function checkName(name: string, action: string): void {
    if (typeof name !== "string" || name === "" || name.includes("/")) {
      throw new TypeError(
        `Cannot ${action} as the service name must be a non-empty string without '/': current value is ${
          JSON.stringify(name)
        }`,
      );
    }
  }
  function encode(instance: ServiceInstance): { key: string; value: string } {
    const record = parseServiceInstance(instance);
    checkName(record.name, "register instance");
    if (record.id.includes("/")) {
      throw new TypeError(
        `Cannot register instance as 'id' must not contain '/': current value is "${record.id}"`,
      );
    }
    return { key: `${root}${record.name}/${record.id}`, value: JSON.stringify(record) };
  }
  function decode(kv: IKeyValue): ServiceInstance | undefined {
    try {
      return parseServiceInstance(JSON.parse(kv.value.toString()));
    } catch (err) {
      log.warn("etcd registry skipped a malformed record", {
        addr,
        key: kv.key.toString(),
        error: errorMessage(err),
      });
      return undefined;
    }
  }
  const listOf = (records: Map<string, ServiceInstance>) =>
    [...records.keys()].sort().map((key) => structuredClone(records.get(key)!));

  async function register(instance: ServiceInstance): Promise<void> {
    checkOpen("register instance");
    const { key, value } = encode(instance);
    const had = registered.has(key);
    registered.set(key, value);
    try {
      await serial(async () => {
        checkOpen("register instance");
        if (!registered.has(key)) return; // deregistered meanwhile
        if (lease === undefined) {
          lease = await grant();
          leaseAliveAt = Date.now();
        }
        try {
          await put(key, value, lease);
        } catch (err) {
          if (!(err instanceof DueError && err.cause instanceof EtcdLeaseInvalidError)) throw err;
          await regrant(); // the lease expired before the keep-alive noticed
        }
      });
    } catch (err) {
      if (!had && registered.get(key) === value) registered.delete(key);
      throw err;
    }
    scheduleKeepAlive();
  }

  async function deregister(instance: ServiceInstance): Promise<void> {
    checkOpen("deregister instance");
    checkName(instance?.name, "deregister instance");
    const key = `${root}${instance.name}/${instance.id}`;
    registered.delete(key);
    await serial(async () => {
      try {
        await call(`delete ${key}`, (o) => client.delete().key(key).options(o).exec());
      } finally {
        if (registered.size === 0 && lease !== undefined) {
          const id = lease;
          lease = undefined;
          clearTimeout(keepAliveTimer);
          keepAliveTimer = undefined;
          await revoke(id);
        }
      }
    });
  }

  async function list(prefix: string): Promise<{ records: Map<string, ServiceInstance>; revision: bigint }> {
    const res = await call(`list ${prefix}`, (o) => client.getAll().prefix(prefix).options(o).exec());
    const records = new Map<string, ServiceInstance>();
    for (const kv of res.kvs) {
      const instance = decode(kv);
      if (instance) records.set(kv.key.toString(), instance);
    }
    return { records, revision: BigInt(res.header.revision) };
  }

  async function services(name: KindName): Promise<ServiceInstance[]> {
    checkOpen("list services");
    checkName(name, "list services");
    return listOf((await list(`${root}${name}/`)).records);
  }

  /** Cancels an etcd watcher, waiting at most one request deadline. */
  async function cancelWatcher(watcher: Watcher): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      watcher.cancel().catch(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /** Lists, pushes, then follows changes until `stop` aborts (resolves) or the watch must restart. */
  async function watchSession(prefix: string, push: (list: ServiceInstance[]) => void, stop: AbortSignal) {
    const { records, revision } = await list(prefix);
    if (stop.aborted) return;
    push(listOf(records));
    const watcher = client.watch().prefix(prefix).startRevision(String(revision + 1n)).watcher();
    await new Promise<void>((resolve, reject) => {
      let disconnected = false;
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        stop.removeEventListener("abort", onAbort);
        cancelWatcher(watcher).then(() => err ? reject(err) : resolve());
      };
      const onAbort = () => finish();
      watcher.on("put", (kv: IKeyValue) => {
        if (done) return;
        const instance = decode(kv);
        const key = kv.key.toString();
        if (instance) records.set(key, instance);
        else if (!records.delete(key)) return;
        push(listOf(records));
      });
      watcher.on("delete", (kv: IKeyValue) => {
        if (!done && records.delete(kv.key.toString())) push(listOf(records));
      });
      watcher.on("disconnected", () => disconnected = true);
      // After a reconnect etcd replays from the last revision, but an etcd that came back empty has older
      // revisions than ours: list again and watch from the new revision.
      watcher.on("connected", () => disconnected && finish());
      watcher.on("error", (err: Error) => finish(err));
      if (stop.aborted) finish();
      else stop.addEventListener("abort", onAbort, { once: true });
    });
  }

  async function watchLoop(name: string, push: (list: ServiceInstance[]) => void, stop: AbortSignal) {
    const prefix = `${root}${name}/`;
    for (let failures = 0; !stop.aborted;) {
      try {
        await watchSession(prefix, push, stop);
        failures = 0;
      } catch (err) {
        failures++;
        log.warn("etcd registry watch failed; watching again", {
          addr,
          service: name,
          attempt: failures,
          error: errorMessage(err),
        });
        await sleep(backoffDelayMs(failures, ETCD_REGISTRY_BACKOFF_BASE_MS, backoffCapMs), stop);
      }
    }
  }

  function watch(name: KindName, options: WatchOptions = {}): AsyncIterable<ServiceInstance[]> {
    checkName(name, "watch services");
    const track = (task: Promise<void>) => {
      watchTasks.add(task);
      task.finally(() => watchTasks.delete(task)).catch(() => {});
    };
    return runWatch((push, stop) => watchLoop(name, push, stop), options.signal, closing.signal, track);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    closing.abort();
    clearTimeout(keepAliveTimer);
    keepAliveTimer = undefined;
    await Promise.allSettled([recovering, ticking, queue, ...watchTasks]);
    client.close();
  }

  try {
    await call("connect", () => client.get(root).options({ deadline: Date.now() + dialTimeoutMs }).exec(), 1);
  } catch (err) {
    client.close();
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot connect etcd registry to etcd at ${addr}: ${errorMessage((err as DueError).cause ?? err)}`,
      { addr, cause: err },
    );
  }

  return { name: "etcd", register, deregister, services, watch, close } satisfies Registry;
}

/**
 * The mesh: hosts stateless services that nodes (and other meshes) call by name. A service is a plain object
 * whose methods take decoded arguments and return a value or a promise.
 *
 * @module
 */

import { State, STATE_NAMES } from "../core/cluster.ts";
import type { ServiceInstance } from "../core/cluster.ts";
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import { InprocHub } from "../core/link.ts";
import type { MeshLink } from "../core/link.ts";
import { silentLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import type { Cache } from "../adapters/cache/types.ts";
import type { Codec } from "../adapters/codec/types.ts";
import type { EventBus } from "../adapters/eventbus/types.ts";
import type { LockMaker } from "../adapters/lock/types.ts";
import type { ConfigCenter } from "../config/center.ts";
import { type PlatformComponents, requireComponent } from "../runtime/components.ts";
import type { Registry } from "../adapters/registry/types.ts";

/** A service implementation: methods by name. */
export type ServiceImpl = object;

/** Options of {@linkcode createMesh}. */
export interface MeshOptions {
  /** Instance id. @default a random UUID */
  id?: string;
  /** Instance name. @default "mesh" */
  name?: string;
  /** Codecs the mesh can decode calls with, by name (callers name theirs on each call). */
  codecs: Codec[];
  /** Where the mesh registers. */
  registry: Registry;
  /** When set, the mesh serves itself in-process. */
  hub?: InprocHub;
  /** The endpoint advertised. @default `inproc://<id>` */
  endpoint?: string;
  /** Registry metadata. */
  metadata?: Record<string, string>;
  /** Platform components handed to services (`mesh.eventbus`, `mesh.cache`, `mesh.lock`, `mesh.config`). */
  components?: MeshComponents;
  /** @default silent */
  logger?: Logger;
}

/** Platform components a mesh hands to its services. */
export type MeshComponents = PlatformComponents;

/** Counters of a mesh. */
export interface MeshStats {
  /** Calls answered. */
  calls: number;
  /** Calls that threw or named an unknown service or method. */
  failures: number;
}

/** The game-facing side of a mesh: service registration. */
export interface MeshApp {
  /** The mesh's instance id. */
  readonly id: string;
  /** The mesh's logger. */
  readonly logger: Logger;
  /** The event bus (`eventbus.driver`). */
  readonly eventbus: EventBus;
  /** The cache (`cache.driver`). */
  readonly cache: Cache;
  /** The distributed lock maker (`lock.driver`). */
  readonly lock: LockMaker;
  /** The config centre (`config.driver`). @throws {TypeError} when it is not configured */
  readonly config: ConfigCenter;
  /**
   * Hosts a service under `name`.
   *
   * @example
   * ```ts ignore
   * mesh.service("rank", { top: (n: number) => scores.slice(0, n) });
   * ```
   */
  service(name: string, impl: ServiceImpl): this;
}

/** A running mesh. */
export interface Mesh {
  /** The mesh id. */
  readonly id: string;
  /** The registry record. */
  readonly instance: ServiceInstance;
  /** Registration for game code. */
  readonly app: MeshApp;
  /** What callers call. */
  readonly link: MeshLink;
  /** Counters. */
  readonly stats: MeshStats;
  /** Registers as `work` with the services hosted. */
  start(): Promise<void>;
  /** Registers `hang`, waits for calls in flight (up to `graceMs`), deregisters. */
  stop(graceMs?: number): Promise<void>;
}

/** Creates a mesh. */
export function createMesh(options: MeshOptions): Mesh {
  const { id = crypto.randomUUID(), name = "mesh", codecs, registry, hub, metadata = {}, components = {} } =
    options;
  const endpoint = options.endpoint ?? InprocHub.endpoint(id);
  const log = (options.logger ?? silentLogger).with({ role: "mesh", id });
  const services = new Map<string, ServiceImpl>();
  const codecByName = new Map(codecs.map((c) => [c.name, c]));
  const stats: MeshStats = { calls: 0, failures: 0 };
  const instance: ServiceInstance = {
    id,
    name: "mesh",
    kind: "mesh",
    alias: name,
    state: "shut",
    events: [],
    routes: [],
    services: [],
    endpoint,
    weight: 1,
    metadata,
  };
  let started = false;
  let inflight = 0;
  let idle: (() => void) | undefined;
  let unserve: (() => void) | undefined;

  const component = <K extends keyof MeshComponents>(key: K) => requireComponent(components, key, "mesh");
  const app: MeshApp = {
    id,
    logger: log,
    get eventbus() {
      return component("eventbus");
    },
    get cache() {
      return component("cache");
    },
    get lock() {
      return component("lock");
    },
    get config() {
      return component("config");
    },
    service(serviceName, impl) {
      if (started) throw new TypeError(`Cannot add service "${serviceName}" after the mesh started`);
      if (typeof serviceName !== "string" || serviceName === "") {
        throw new TypeError(
          `Cannot add service as its name must be a non-empty string: current value is ${
            JSON.stringify(serviceName)
          }`,
        );
      }
      if (services.has(serviceName)) {
        throw new RangeError(`Cannot add service "${serviceName}": it is already registered`);
      }
      services.set(serviceName, impl);
      return this;
    },
  };

  const link: MeshLink = {
    async call(service, method, args, codecName) {
      const codec = codecByName.get(codecName);
      const impl = services.get(service);
      const fn = impl ? (impl as Record<string, unknown>)[method] : undefined;
      if (!codec || typeof fn !== "function" || method === "constructor") {
        stats.failures++;
        const why = !codec
          ? `codec "${codecName}" is not loaded here`
          : !impl
          ? "no such service"
          : "no such method";
        throw new DueError(ErrorCode.RouteNotFound, `Cannot call mesh service ${service}.${method}: ${why}`, {
          instanceId: id,
        });
      }
      inflight++;
      try {
        const decoded = codec.decode<unknown[]>(args);
        const result = await fn.apply(impl, Array.isArray(decoded) ? decoded : []);
        stats.calls++;
        return codec.encode(result);
      } catch (err) {
        stats.failures++;
        if (!DueError.is(err)) log.warn("mesh call failed", { service, method, error: errorMessage(err) });
        throw err;
      } finally {
        if (--inflight === 0) idle?.();
      }
    },
  };

  return {
    id,
    instance,
    app,
    link,
    stats,
    async start() {
      started = true;
      instance.services = [...services.keys()];
      if (hub) unserve = hub.serveMesh(id, link);
      instance.state = STATE_NAMES[State.Work];
      await registry.register(instance);
      log.info("mesh started", { services: instance.services.join(",") || "-" });
    },
    async stop(graceMs = 3000) {
      if (instance.state !== "shut") {
        instance.state = "hang";
        await registry.register(instance).catch((err) =>
          log.warn("register hang failed", { error: errorMessage(err) })
        );
      }
      if (inflight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => idle = resolve),
          new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs)),
        ]);
        clearTimeout(timer);
      }
      instance.state = "shut";
      await registry.deregister(instance).catch((err) =>
        log.warn("deregister failed", { error: errorMessage(err) })
      );
      unserve?.();
    },
  };
}

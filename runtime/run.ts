/**
 * Runs the roles of one process from the startup config: builds the adapters config chooses (registry, locator,
 * codecs, network servers), joins the roles through the in-process link, and starts them. `due` and the tests
 * call this; embedders may too.
 *
 * @module
 */

import { createCodec } from "../adapters/codec/mod.ts";
import type { Codec } from "../adapters/codec/types.ts";
import { LOCATOR_DRIVERS } from "../adapters/locator/mod.ts";
import type { Locator } from "../adapters/locator/types.ts";
import { createTcpServer } from "../adapters/network/tcp.ts";
import { createWsServer } from "../adapters/network/ws.ts";
import { createKcpServer } from "../adapters/network/kcp/server.ts";
import type { NetworkServer, ServerOptions } from "../adapters/network/types.ts";
import { REGISTRY_DRIVERS } from "../adapters/registry/mod.ts";
import type { Registry } from "../adapters/registry/types.ts";
import type { DueConfig } from "../config/schema.ts";
import { InprocHub } from "../core/link.ts";
import { CloseStack } from "../core/close_stack.ts";
import { silentLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import { createPacketFormat } from "../core/packet.ts";
import type { PacketFormat } from "../core/packet.ts";
import type { App } from "./app.ts";
import type { PlatformComponents } from "./components.ts";
import { createPlatform } from "./platform.ts";
import { createMeshTransport, hasMeshTransport } from "../adapters/transport/mod.ts";
import type { MeshTransport } from "../adapters/transport/types.ts";
import { startRoles } from "./roles.ts";
import { createClusterLinks } from "./cluster_links.ts";
import type { RoleIds } from "./cluster_links.ts";
import type { Role, RunningRoles } from "./roles.ts";

/** Which roles a process runs: one, or `all` (the monolith). */
export type RoleName = Role | "all";

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** The role(s). */
  role: RoleName;
  /** The loaded startup config. */
  config: DueConfig;
  /** The game (not needed by a gate alone). */
  app?: App;
  /** @default silent */
  logger?: Logger;
}

/** A running process. */
export interface Running {
  /** The roles. */
  readonly roles: RunningRoles;
  /** Bound client addresses by network (`tcp`, `ws`, `kcp`), when a gate runs. */
  readonly addrs: Readonly<Record<string, string>>;
  /** Stops the roles (bounded by `graceMs`) and closes the adapters in reverse order. */
  stop(graceMs?: number): Promise<void>;
}

/** A config error found while building adapters: names the key to fix. */
export class StartupConfigError extends Error {
  /** The dotted config key at fault. */
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = "StartupConfigError";
    this.key = key;
  }
}

function rolesOf(role: RoleName): Role[] {
  return role === "all" ? ["mesh", "node", "gate"] : [role];
}

/**
 * Refuses a role started alone on an embedded (memory) registry or locator, which could never find its peers.
 *
 * @throws {StartupConfigError} naming the key to set
 */
export function checkStandalone(role: RoleName, config: DueConfig): void {
  if (role === "all") return;
  if (config.registry.driver === "memory") {
    throw new StartupConfigError(
      "registry.driver",
      `Cannot start ${role} alone on the memory registry: it could never find its peers. Set 'registry.driver' (e.g. "etcd" with [registry.etcd]) or run --role=all`,
    );
  }
  if (role !== "mesh" && config.locate.driver === "memory") {
    throw new StartupConfigError(
      "locate.driver",
      `Cannot start ${role} alone on the memory locator: users bound on one process would be unknown to the others. Set 'locate.driver' (e.g. "redis" with [locate.redis]) or run --role=all`,
    );
  }
}

/** Creates the network servers a gate serves, from `cluster.gate.networks` and `network.<name>.server`. */
export function createNetworkServers(
  config: DueConfig,
  format: PacketFormat,
  logger: Logger,
): NetworkServer[] {
  let nextCid = 0;
  const nextId = () => ++nextCid;
  // What every network's server section has (tcp, ws and kcp alike).
  type ServerSection = Pick<
    DueConfig["network"]["kcp"]["server"],
    "addr" | "maxConnNum" | "heartbeatInterval" | "heartbeatMechanism" | "authorizeTimeout"
  >;
  const common = (s: ServerSection): ServerOptions => ({
    addr: s.addr,
    format,
    maxConnNum: s.maxConnNum,
    heartbeatIntervalMs: s.heartbeatInterval,
    heartbeatMechanism: s.heartbeatMechanism,
    authorizeTimeoutMs: s.authorizeTimeout,
    nextId,
    logger,
  });
  // What the stream networks (tcp, ws) add: a write queue and TLS.
  const stream = (s: DueConfig["network"]["tcp"]["server"]): ServerOptions => ({
    ...common(s),
    writeQueueSize: s.writeQueueSize,
    writeTimeoutMs: s.writeTimeout,
    certFile: s.certFile || undefined,
    keyFile: s.keyFile || undefined,
  });
  return config.cluster.gate.networks.map((network) => {
    switch (network) {
      case "tcp":
        return createTcpServer(stream(config.network.tcp.server));
      case "ws": {
        const ws = config.network.ws.server;
        return createWsServer({ ...stream(ws), path: ws.path, origins: ws.origins });
      }
      case "kcp": {
        const kcp = config.network.kcp.server;
        return createKcpServer({
          ...common(kcp),
          mtu: kcp.mtu,
          noDelay: kcp.noDelay as [number, number, number, number],
          ackNoDelay: kcp.ackNoDelay,
          windowSize: kcp.windowSize as [number, number],
          readBufferBytes: kcp.readBuffer,
          writeBufferBytes: kcp.writeBuffer,
        });
      }
      default:
        throw new StartupConfigError(
          "cluster.gate.networks",
          `Cannot serve network "${network}": it is not available in this build`,
        );
    }
  });
}

async function createNodeCodec(config: DueConfig): Promise<Codec> {
  return await createCodec(config.cluster.node.codec, { protobuf: { files: config.codec.protobuf.files } });
}

async function loadDriver<T>(
  kind: string,
  drivers: Record<string, (options: Record<string, unknown>) => Promise<T>>,
  driver: string,
  options: Record<string, unknown>,
): Promise<T> {
  const load = drivers[driver];
  if (!load) {
    throw new StartupConfigError(
      `${kind}.driver`,
      `Cannot use ${kind} driver "${driver}": it is not available in this build (available: ${
        Object.keys(drivers).join(", ")
      })`,
    );
  }
  return await load(options);
}

/**
 * Builds the adapters and starts the roles.
 *
 * @throws {StartupConfigError} when config asks for something that cannot run (names the key)
 * @throws {DueError} when a server cannot listen or a backend cannot be reached (names the address)
 */
export async function run(options: RunOptions): Promise<Running> {
  const { role, config, app = {}, logger = silentLogger } = options;
  checkStandalone(role, config);
  const format = createPacketFormat(config.packet);
  const closers = new CloseStack(logger);

  try {
    const registry: Registry = await loadDriver(
      "registry",
      REGISTRY_DRIVERS,
      config.registry.driver,
      (config.registry as Record<string, unknown>)[config.registry.driver] as Record<string, unknown> ?? {},
    );
    closers.push(() => registry.close());
    const locator: Locator = await loadDriver(
      "locate",
      LOCATOR_DRIVERS,
      config.locate.driver,
      (config.locate as Record<string, unknown>)[config.locate.driver] as Record<string, unknown> ?? {},
    );
    closers.push(() => locator.close());
    const platform = await createPlatform(config, logger);
    closers.push(() => platform.close());
    const components: PlatformComponents = platform;
    const hub = new InprocHub();
    const roles = rolesOf(role);
    const { gate, node, mesh } = config.cluster;
    const ids: RoleIds = {
      gate: gate.id || crypto.randomUUID(),
      node: node.id || crypto.randomUUID(),
      mesh: mesh.id || crypto.randomUUID(),
    };
    const cluster = createClusterLinks({ config, roles, ids, hub, logger, running: {} });
    closers.push(() => cluster.close());
    // Mesh calls over NATS instead of the cluster link, when transport.driver says so.
    let transport: MeshTransport | undefined;
    if (hasMeshTransport(config.transport.driver)) {
      const { url, timeout } = config.transport.nats;
      transport = await createMeshTransport(config.transport.driver, { url, timeoutMs: timeout, logger });
      closers.push(() => transport!.close());
    }
    const nodeCodec = roles.includes("node") ? await createNodeCodec(config) : undefined;
    // Mesh calls carry their codec's name; services decode with any of these.
    const meshCodecs = await Promise.all(["json", "msgpack"].map((name) => createCodec(name)));
    const gateServers = roles.includes("gate") ? createNetworkServers(config, format, logger) : [];
    const running = await startRoles({
      roles,
      app,
      format,
      registry,
      locator,
      links: cluster.links,
      gateLinks: cluster.gateLinks,
      nodeLinks: cluster.nodeLinks,
      attach: cluster.attach,
      hub,
      logger,
      serviceCodecs: meshCodecs,
      gate: {
        id: ids.gate,
        endpoint: cluster.endpoints.gate,
        name: gate.name,
        servers: gateServers,
        dispatch: gate.dispatch,
        duplicateLogin: gate.duplicateLogin,
        replyUnknownRoute: gate.replyUnknownRoute,
        metadata: gate.metadata,
      },
      node: nodeCodec && {
        id: ids.node,
        endpoint: cluster.endpoints.node,
        name: node.name,
        codec: nodeCodec,
        meshCodec: nodeCodec.name === "protobuf" ? meshCodecs[0] : nodeCodec,
        weight: node.weight,
        requestQueueSize: node.requestQueueSize,
        callTimeoutMs: node.callTimeout,
        // Alone in its process on the memory registry, no other gate can still send once ours has stopped.
        drainQuietMs: config.registry.driver === "memory" ? 0 : undefined,
        metadata: node.metadata,
        components,
        encryptor: platform.encryptor,
        meshTransport: transport?.caller(),
      },
      mesh: {
        id: ids.mesh,
        endpoint: cluster.endpoints.mesh,
        name: mesh.name,
        codecs: meshCodecs,
        metadata: mesh.metadata,
        components,
      },
    });
    if (transport) {
      for (const served of [running.mesh, running.hosted]) {
        if (served) closers.push(await transport.serve(served.instance.services, served.link));
      }
    }
    const addrs: Record<string, string> = {};
    for (const server of gateServers) addrs[server.network] = server.addr;
    return {
      roles: running,
      addrs,
      async stop(graceMs = config.shutdownMaxWaitTime) {
        await running.stop(graceMs);
        await closers.close();
      },
    };
  } catch (err) {
    await closers.close();
    throw err;
  }
}

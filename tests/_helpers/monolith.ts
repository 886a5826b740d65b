/**
 * Starts the monolith (gate + node + mesh on embedded defaults) inside the test process, on free ports.
 *
 * @module
 */
import { createJsonCodec } from "../../adapters/codec/json.ts";
import { createMemoryLocator } from "../../adapters/locator/memory.ts";
import { createKcpServer } from "../../adapters/network/kcp/server.ts";
import type { KcpServer, KcpServerOptions } from "../../adapters/network/kcp/server.ts";
import { createTcpServer } from "../../adapters/network/tcp.ts";
import { createWsServer } from "../../adapters/network/ws.ts";
import type { ServerOptions } from "../../adapters/network/types.ts";
import { createMemoryRegistry } from "../../adapters/registry/memory.ts";
import { createInprocLinks } from "../../core/inproc_links.ts";
import { InprocHub } from "../../core/link.ts";
import { createPacketFormat } from "../../core/packet.ts";
import type { PacketOptions } from "../../core/packet.ts";
import type { App } from "../../runtime/app.ts";
import { startRoles } from "../../runtime/roles.ts";
import type { RunningRoles } from "../../runtime/roles.ts";
import type { Logger } from "../../core/logger.ts";

/** Options of {@linkcode startMonolith}. */
export interface MonolithOptions {
  packet?: Partial<PacketOptions>;
  server?: Partial<Omit<ServerOptions, "addr" | "format">>;
  gate?: { duplicateLogin?: "kick" | "unbind"; replyUnknownRoute?: boolean };
  /** Also serve KCP on a free loopback UDP port (`true`, or KCP settings). */
  kcp?: boolean | Partial<Omit<KcpServerOptions, "addr" | "format">>;
  logger?: Logger;
}

/** A monolith under test. */
export interface TestMonolith {
  roles: RunningRoles;
  tcpAddr: string;
  wsUrl: string;
  /** The KCP server, when `kcp` was asked for. */
  kcp: KcpServer | undefined;
  /** `127.0.0.1:<port>` of the KCP server, "" without one. */
  kcpAddr: string;
  stop(): Promise<void>;
}

/** Starts `app` as a monolith with TCP and WS (and KCP if asked) on free loopback ports. */
export async function startMonolith(app: App, options: MonolithOptions = {}): Promise<TestMonolith> {
  const format = createPacketFormat(options.packet);
  const registry = createMemoryRegistry();
  const locator = createMemoryLocator();
  const hub = new InprocHub();
  let next = 0;
  const common = { format, nextId: () => ++next, logger: options.logger, ...options.server };
  const tcp = createTcpServer({ addr: "127.0.0.1:0", ...common });
  const ws = createWsServer({ addr: "127.0.0.1:0", ...common });
  const kcp = options.kcp
    ? createKcpServer({ addr: "127.0.0.1:0", ...common, ...(options.kcp === true ? {} : options.kcp) })
    : undefined;
  const codec = createJsonCodec();
  const roles = await startRoles({
    roles: ["mesh", "node", "gate"],
    app,
    format,
    registry,
    locator,
    links: createInprocLinks(hub),
    hub,
    gate: { servers: kcp ? [tcp, ws, kcp] : [tcp, ws], ...options.gate },
    node: { codec, drainQuietMs: 0 },
    mesh: { codecs: [codec] },
    logger: options.logger,
  });
  return {
    roles,
    tcpAddr: tcp.addr,
    wsUrl: `ws://${ws.addr}/`,
    kcp,
    kcpAddr: kcp?.addr ?? "",
    async stop() {
      await roles.stop(500);
      await registry.close();
      await locator.close();
    },
  };
}

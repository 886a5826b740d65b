/**
 * A real cluster for end-to-end tests: gate, node and mesh processes of the real CLI on etcd and Redis, each in a
 * namespace of its own.
 *
 * @module
 */
import { startDue } from "./due_process.ts";
import type { DueProcess } from "./due_process.ts";
import { serviceAddr } from "./services.ts";
import { Redis } from "ioredis";

const APP = new URL("../fixtures/cluster_app.ts", import.meta.url).pathname;

/** A cluster under test. */
export interface TestCluster {
  /** Running processes by name (`g1`, `n1`, …). */
  procs: Map<string, DueProcess>;
  /** The config file every process reads. */
  configPath: string;
  /** The etcd namespace of this cluster. */
  namespace: string;
  /** The Redis locator prefix of this cluster. */
  prefix: string;
  /** Starts a gate; `flags` override config keys. */
  gate(name: string, flags?: string[]): Promise<DueProcess>;
  /** Starts a node with id `name`. */
  node(name: string, flags?: string[]): Promise<DueProcess>;
  /** Starts a mesh with id `name`. */
  mesh(name: string, flags?: string[]): Promise<DueProcess>;
  /** Stops one process (SIGTERM, or SIGKILL) and resolves with its exit code. */
  stop(name: string, signal?: Deno.Signal): Promise<number>;
  /** Stops every process and removes the config. */
  close(): Promise<void>;
}

/** Creates an empty cluster: a config on real etcd and Redis. */
export async function createTestCluster(): Promise<TestCluster> {
  const run = crypto.randomUUID().slice(0, 8);
  const namespace = `duetest-${run}`;
  const prefix = `duetest:${run}`;
  const dir = await Deno.makeTempDir({ prefix: "due-cluster-" });
  const configPath = `${dir}/due.toml`;
  await Deno.writeTextFile(
    configPath,
    `shutdownMaxWaitTime = "10s"

[registry]
driver = "etcd"

[registry.etcd]
addrs = ["${serviceAddr("etcd")}"]
namespace = "${namespace}"

[locate]
driver = "redis"

[locate.redis]
addrs = ["${serviceAddr("redis")}"]
prefix = "${prefix}"

[cluster.gate]
addr = "127.0.0.1:0"

[cluster.node]
addr = "127.0.0.1:0"

[cluster.mesh]
addr = "127.0.0.1:0"

[network.tcp.server]
addr = "127.0.0.1:0"
heartbeatInterval = "0s"

[network.ws.server]
addr = "127.0.0.1:0"
heartbeatInterval = "0s"
`,
  );
  const procs = new Map<string, DueProcess>();
  const start = async (name: string, args: string[]) => {
    const proc = await startDue({ args: [...args, `--config=${configPath}`] });
    procs.set(name, proc);
    return proc;
  };
  return {
    procs,
    configPath,
    namespace,
    prefix,
    gate: (name, flags = []) => start(name, ["--role=gate", `--cluster.gate.id=${name}`, ...flags]),
    node: (name, flags = []) =>
      start(name, ["--role=node", `--app=${APP}`, `--cluster.node.id=${name}`, ...flags]),
    mesh: (name, flags = []) =>
      start(name, ["--role=mesh", `--app=${APP}`, `--cluster.mesh.id=${name}`, ...flags]),
    async stop(name, signal = "SIGTERM") {
      const proc = procs.get(name);
      if (!proc) throw new Error(`no process ${name}`);
      procs.delete(name);
      return await proc.stop(signal);
    },
    async close() {
      await Promise.all([...procs.values()].map((p) => p.stop("SIGKILL")));
      procs.clear();
      await Deno.remove(dir, { recursive: true });
      // The locator's keys of this run (etcd records of killed processes expire with their leases).
      const [host, port] = serviceAddr("redis").split(":");
      const redis = new Redis({ host, port: Number(port), lazyConnect: true });
      try {
        await redis.connect();
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

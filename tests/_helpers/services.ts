/**
 * Where the real servers the tests talk to are, and whether they are up.
 *
 * Addresses come from env variables (`DUE_TEST_REDIS`, `DUE_TEST_NATS`, `DUE_TEST_AMQP`, `DUE_TEST_ETCD`,
 * `DUE_TEST_MEMCACHED`, `DUE_TEST_KAFKA`, `DUE_TEST_CONSUL`, `DUE_TEST_NACOS`) with loopback defaults. A test
 * that needs a server that is down fails loudly in CI (env `CI` set) and is skipped with a one-line reason
 * elsewhere.
 *
 * @module
 */

/** Servers the tests know about. */
export const SERVICES = {
  redis: { env: "DUE_TEST_REDIS", fallback: "127.0.0.1:6379" },
  nats: { env: "DUE_TEST_NATS", fallback: "127.0.0.1:4222" },
  amqp: { env: "DUE_TEST_AMQP", fallback: "amqp://guest:guest@127.0.0.1:5672" },
  etcd: { env: "DUE_TEST_ETCD", fallback: "127.0.0.1:2379" },
  memcached: { env: "DUE_TEST_MEMCACHED", fallback: "127.0.0.1:11211" },
  /** No Kafka broker runs here: tests that need it run only when `DUE_TEST_KAFKA` is set. */
  kafka: { env: "DUE_TEST_KAFKA", fallback: "" },
  /** No Consul agent can be installed here: tests on a real one run only when `DUE_TEST_CONSUL` is set. */
  consul: { env: "DUE_TEST_CONSUL", fallback: "" },
  /** No Nacos server can be installed here: tests on a real one run only when `DUE_TEST_NACOS` is set. */
  nacos: { env: "DUE_TEST_NACOS", fallback: "" },
} as const;

/** A server name of {@linkcode SERVICES}. */
export type ServiceName = keyof typeof SERVICES;

/** The address of a server: the env variable if set, else the default. */
export function serviceAddr(name: ServiceName): string {
  const { env, fallback } = SERVICES[name];
  return Deno.env.get(env) || fallback;
}

function hostPort(addr: string): { hostname: string; port: number } {
  const url = addr.includes("://") ? new URL(addr) : new URL(`tcp://${addr}`);
  return { hostname: url.hostname || "127.0.0.1", port: Number(url.port) };
}

const probes = new Map<ServiceName, Promise<boolean>>();

async function probe(name: ServiceName): Promise<boolean> {
  const addr = serviceAddr(name);
  if (!addr) return false;
  try {
    const conn = await Deno.connect(hostPort(addr));
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Whether the tests run in CI, where a missing server is a failure, not a skip. */
export const IN_CI = Boolean(Deno.env.get("CI"));

/**
 * Whether tests that need `name` should be skipped here: `true` (with a one-line reason printed) only outside CI
 * when the server does not answer on its port, or for Kafka, Consul and Nacos when no address is given. In CI it is
 * `false` for every server that can run here, so a missing server makes the tests fail loudly with its address.
 *
 * @example
 * ```ts ignore
 * const ignore = await skipUnless("redis");
 * Deno.test({ name: "createRedisLocator() binds a gate", ignore, fn: async () => {} });
 * ```
 */
export async function skipUnless(name: ServiceName): Promise<boolean> {
  const { env } = SERVICES[name];
  const addr = serviceAddr(name);
  if (!addr) {
    console.log(`skipped: tests that need ${name} (set ${env} to run them)`);
    return true;
  }
  if (IN_CI && SERVICES[name].fallback !== "") return false;
  let probed = probes.get(name);
  if (!probed) probes.set(name, probed = probe(name));
  if (await probed) return false;
  console.log(`skipped: tests that need ${name}, not reachable at ${addr} (set ${env})`);
  return true;
}

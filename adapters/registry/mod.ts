/**
 * Registries chosen by `registry.driver`. Backends load lazily: `due dev` never loads etcd3.
 *
 * @module
 */
import type { Registry } from "./types.ts";

export type { Discovery, Registrar, Registry, WatchOptions } from "./types.ts";

/** Loaders by driver name; a new backend is one file and one line here. */
export const REGISTRY_DRIVERS: Record<string, (options: Record<string, unknown>) => Promise<Registry>> = {
  memory: async () => (await import("./memory.ts")).createMemoryRegistry(),
  etcd: async (options) => {
    const { createEtcdRegistry, etcdRegistryOptionsFromConfig } = await import("./etcd.ts");
    return await createEtcdRegistry(etcdRegistryOptionsFromConfig(options));
  },
  consul: async (options) => {
    const { createConsulRegistry, consulRegistryOptionsFromConfig } = await import("./consul.ts");
    return await createConsulRegistry(consulRegistryOptionsFromConfig(options));
  },
  nacos: async (options) => {
    const { createNacosRegistry, nacosRegistryOptionsFromConfig } = await import("./nacos.ts");
    return await createNacosRegistry(nacosRegistryOptionsFromConfig(options));
  },
};

/**
 * Business config sources, chosen by `config.driver` in the startup config. Each backend is loaded only when
 * chosen, so `etcd3` is never imported by a game that reads files.
 *
 * @example
 * ```ts ignore
 * import { createConfigSourceFromConfig } from "./mod.ts";
 * import { loadConfig } from "../../config/load.ts";
 * const { config } = await loadConfig({ path: "due.toml" });
 * const source = await createConfigSourceFromConfig(config.config); // undefined when config.driver is ""
 * ```
 *
 * @module
 */

import type { DueConfig } from "../../config/schema.ts";
import type { ConfigSource } from "./types.ts";

export * from "./types.ts";

/** Backends by driver name; each entry loads its file on first use. */
export const CONFIG_SOURCES = {
  file: async (config: DueConfig["config"]): Promise<ConfigSource> => {
    const { createFileConfigSource } = await import("./file.ts");
    return createFileConfigSource({ path: config.file.path, mode: config.file.mode });
  },
  etcd: async (config: DueConfig["config"]): Promise<ConfigSource> => {
    const { createEtcdConfigSource } = await import("./etcd.ts");
    const { addrs, dialTimeout, username, password, path, mode } = config.etcd;
    return createEtcdConfigSource({ addrs, dialTimeoutMs: dialTimeout, username, password, path, mode });
  },
  consul: async (config: DueConfig["config"]): Promise<ConfigSource> => {
    const { createConsulConfigSource } = await import("./consul.ts");
    const { addr, token, path, mode } = config.consul;
    return createConsulConfigSource({ addr, token: token || undefined, path, mode });
  },
  nacos: async (config: DueConfig["config"]): Promise<ConfigSource> => {
    const { createNacosConfigSource, nacosConfigSourceOptionsFromConfig } = await import("./nacos.ts");
    return createNacosConfigSource(nacosConfigSourceOptionsFromConfig(config.nacos));
  },
} as const;

/** A driver name with a backend in this build. */
export type ConfigSourceDriver = keyof typeof CONFIG_SOURCES;

/**
 * Creates the source `config.driver` names, or returns `undefined` when the driver is `""` (no config centre).
 *
 * @param config the `config` section of the startup config
 * @throws {TypeError} for a driver without a backend in this build, or a key its backend cannot honour
 */
export async function createConfigSourceFromConfig(
  config: DueConfig["config"],
): Promise<ConfigSource | undefined> {
  const { driver } = config;
  if (driver === "") return undefined;
  if (!Object.hasOwn(CONFIG_SOURCES, driver)) {
    throw new TypeError(
      `Cannot create config source as 'config.driver' must be one of ${
        Object.keys(CONFIG_SOURCES).join("|")
      } in this build: current value is "${driver}"`,
    );
  }
  return await CONFIG_SOURCES[driver as ConfigSourceDriver](config);
}

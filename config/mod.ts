/**
 * due's configuration: the startup config schema with its defaults ({@linkcode dueSchema}, {@linkcode DueConfig}),
 * loading it from a file or etcd with env and flag overrides ({@linkcode loadConfig}), and the business config
 * centre ({@linkcode createConfigCenter}).
 *
 * @example Load the startup config
 * ```ts
 * import { loadConfig } from "./mod.ts";
 * const { config, warnings } = await loadConfig({ flags: { "network.tcp.server.addr": ":3600" }, env: {} });
 * for (const warning of warnings) console.warn(warning);
 * console.assert(config.network.tcp.server.addr === ":3600");
 * ```
 *
 * @module
 */

export { ConfigError, type ConfigErrorDetails } from "./config_error.ts";
export { type DueConfig, type DueConfigInput, dueSchema } from "./schema.ts";
export type { Bytes, Infer, InferInput, Milliseconds } from "./schema_dsl.ts";
export { loadConfig, type LoadConfigOptions, type LoadedConfig } from "./load.ts";
export { resolveConfig, type ResolveConfigOptions, type ResolvedConfig } from "./resolve.ts";
export { envName } from "./env.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { formatSize, parseSize } from "./size.ts";
export { type ConfigFormat, formatOf, parseConfigText, stringifyConfig } from "./format.ts";
export { renderDefaultToml } from "./render_toml.ts";
export {
  type ConfigCenter,
  type ConfigCenterOptions,
  type ConfigChange,
  type ConfigStoreOptions,
  type ConfigWatchOptions,
  createConfigCenter,
} from "./center.ts";

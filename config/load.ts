/**
 * Loading the startup config: defaults < file < env variables < flags.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { type ConfigFormat, formatOf, parseConfigText } from "./format.ts";
import { applyEnv, applyFlags, applyTable } from "./resolve.ts";
import { defaults } from "./schema_dsl.ts";
import { type DueConfig, dueSchema } from "./schema.ts";

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /**
   * The config file: a path (`.toml`, `.json`, `.yaml`, `.yml`; relative to `cwd`) or an etcd key
   * (`etcd://[user:password@]host:port[,host:port]/due/due.toml`, the format from the key's extension).
   * @default none: the defaults
   */
  path?: string;
  /** Overrides by dotted key, e.g. `{ "network.tcp.server.addr": ":3600" }` (from `--network.tcp.server.addr=:3600`). */
  flags?: Readonly<Record<string, string>>;
  /** Env variables; `DUE_<PATH>` ones override keys. @default Deno.env.toObject() (none if not permitted) */
  env?: Readonly<Record<string, string | undefined>>;
  /** The directory a relative `path` is read from. @default Deno.cwd() */
  cwd?: string;
}

/** A loaded startup config. */
export interface LoadedConfig {
  /** The config: every key present, durations in ms, sizes in bytes. */
  config: DueConfig;
  /** One line per unknown key of the file, naming the file, the key and the closest known key. */
  warnings: string[];
  /** Where the file part came from: the path as given, an `etcd://` URL without password, or `"defaults"`. */
  source: string;
}

/** The formats a startup config file may have. */
const STARTUP_FORMATS: readonly ConfigFormat[] = ["toml", "json", "yaml"];

/**
 * Loads the startup config: the defaults, then the file (if any), then `DUE_…` env variables, then flags.
 *
 * @param options the file, flags, env and working directory
 * @returns the config, the warnings (unknown keys) and where the file came from
 * @throws {ConfigError} naming the file, env variable or flag and the key, when anything cannot be used
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * const { config } = await loadConfig({ env: { DUE_MODE: "release" }, flags: { "cluster.gate.addr": ":9000" } });
 * console.assert(config.mode === "release" && config.cluster.gate.addr === ":9000");
 * console.assert(config.network.tcp.server.heartbeatInterval === 10_000); // "10s" in ms
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const { path, flags = {}, env = readEnv(), cwd } = options;
  const config = defaults(dueSchema);
  const target = config as Record<string, unknown>;
  const warnings: string[] = [];
  let source = "defaults";
  if (path !== undefined && path !== "") {
    const file = path.startsWith("etcd://") ? await readEtcd(path) : await readFile(path, cwd);
    source = file.name;
    applyTable(dueSchema, target, parseConfigText(file.text, file.format, file.name), file.name, warnings);
  }
  applyEnv(dueSchema, target, env);
  applyFlags(dueSchema, target, flags);
  return { config, warnings, source };
}

function readEnv(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}

interface ConfigText {
  name: string;
  text: string;
  format: ConfigFormat;
}

function startupFormat(name: string, path: string): ConfigFormat {
  const format = formatOf(path);
  if (format === undefined || !STARTUP_FORMATS.includes(format)) {
    throw new ConfigError({
      file: name,
      expected: "a .toml, .json, .yaml or .yml file",
      value: path,
      message: `Cannot load config from ${name}: the name must end in .toml, .json, .yaml or .yml`,
    });
  }
  return format;
}

async function readFile(path: string, cwd: string | undefined): Promise<ConfigText> {
  const format = startupFormat(path, path);
  const full = path.startsWith("/") || cwd === undefined ? path : `${cwd.replace(/\/+$/, "")}/${path}`;
  try {
    return { name: path, text: await Deno.readTextFile(full), format };
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new ConfigError({
      file: path,
      expected: "a readable file",
      value: full,
      message: `Cannot read config file ${path}: ${reason}`,
      cause: err,
    });
  }
}

/** The parts of an `etcd://[user:password@]host:port[,host:port]/key` URL. */
export interface EtcdLocation {
  /** etcd addresses, host:port. */
  addrs: string[];
  /** The key, with its leading `/`. */
  key: string;
  /** The username, if given. */
  username?: string;
  /** The password, if given. */
  password?: string;
  /** The URL without the password, for messages. */
  name: string;
}

/**
 * Splits an `etcd://` URL into addresses, key and credentials.
 *
 * @example
 * ```ts
 * import { parseEtcdUrl } from "./load.ts";
 * const where = parseEtcdUrl("etcd://127.0.0.1:2379/due/due.toml");
 * console.assert(where.addrs[0] === "127.0.0.1:2379" && where.key === "/due/due.toml");
 * ```
 */
export function parseEtcdUrl(url: string): EtcdLocation {
  const rest = url.slice("etcd://".length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash);
  const at = authority.lastIndexOf("@");
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  const addrs = hosts.split(",").map((host) => host.trim()).filter((host) => host !== "");
  let username: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const credentials = authority.slice(0, at);
    const colon = credentials.indexOf(":");
    username = decodeURIComponent(colon < 0 ? credentials : credentials.slice(0, colon));
    password = colon < 0 ? undefined : decodeURIComponent(credentials.slice(colon + 1));
  }
  const name = `etcd://${username === undefined ? "" : `${username}@`}${addrs.join(",")}${key}`;
  if (addrs.length === 0 || key.length <= 1) {
    throw new ConfigError({
      file: url.replace(/\/\/[^@/]*@/, "//"),
      expected: "etcd://host:port/key",
      value: url,
      message:
        `Cannot load config from ${name}: the URL must be etcd://[user:password@]host:port[,host:port]/key`,
    });
  }
  return { addrs, key, username, password, name };
}

async function readEtcd(url: string): Promise<ConfigText> {
  const where = parseEtcdUrl(url);
  const format = startupFormat(where.name, where.key);
  const { readEtcdKey } = await import("../adapters/configsource/etcd.ts");
  let text: string | undefined;
  try {
    text = await readEtcdKey(where.key, where);
  } catch (err) {
    throw new ConfigError({
      file: where.name,
      expected: "a readable key",
      value: where.key,
      message: `Cannot read config from ${where.name}: ${(err as Error).message}`,
      cause: err,
    });
  }
  if (text === undefined) {
    throw new ConfigError({
      file: where.name,
      expected: "an existing key",
      value: where.key,
      message: `Cannot read config from ${where.name}: no such key`,
    });
  }
  return { name: where.name, text, format };
}

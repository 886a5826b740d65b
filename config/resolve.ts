/**
 * Applying config layers onto a config object, with validation: a parsed file (unknown keys are warnings), env
 * variables (`DUE_…`, unknown ones ignored) and flags (`{ "network.tcp.server.addr": ":3600" }`, unknown ones are
 * errors). Every bad value is a {@linkcode ConfigError} naming its file, env variable or flag.
 *
 * @module
 */

import { ConfigError, describeValue } from "./config_error.ts";
import { closestKey } from "./_suggest.ts";
import { envName } from "./env.ts";
import { defaults, isObjectSpec, type LeafEntry, leaves, type ObjectSpec, sections } from "./schema_dsl.ts";
import { type DueConfig, type DueConfigInput, dueSchema } from "./schema.ts";

interface SchemaIndex {
  leaves: Map<string, LeafEntry>;
  envNames: Map<string, LeafEntry>;
  sections: Set<string>;
  known: string[];
}

const indexes = new WeakMap<ObjectSpec, SchemaIndex>();

function indexOf(schema: ObjectSpec): SchemaIndex {
  let index = indexes.get(schema);
  if (index) return index;
  const entries = leaves(schema);
  const sectionPaths = sections(schema);
  index = {
    leaves: new Map(entries.map((entry) => [entry.path, entry])),
    envNames: new Map(entries.map((entry) => [envName(entry.path), entry])),
    sections: new Set(sectionPaths),
    known: [...sectionPaths, ...entries.map((entry) => entry.path)],
  };
  indexes.set(schema, index);
  return index;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = target;
  for (let i = 0; i < segments.length - 1; i++) node = node[segments[i]] as Record<string, unknown>;
  node[segments[segments.length - 1]] = value;
}

/** `Unknown config key 'a.b' in due.toml is ignored: did you mean 'a.c'?` */
function unknownKeyWarning(key: string, file: string, schema: ObjectSpec): string {
  const suggestion = closestKey(key, indexOf(schema).known);
  return `Unknown config key '${key}' in ${file} is ignored${
    suggestion === undefined ? "" : `: did you mean '${suggestion}'?`
  }`;
}

/**
 * Applies a parsed file onto `target`: each known key is validated and set, each unknown key adds a warning
 * (with the closest known key). A `null` value (an empty YAML key) leaves the key as it was.
 *
 * @throws {ConfigError} for the first invalid value
 */
export function applyTable(
  schema: ObjectSpec,
  target: Record<string, unknown>,
  raw: unknown,
  file: string,
  warnings: string[],
): void {
  if (!isTable(raw)) {
    throw new ConfigError({
      file,
      expected: "a table",
      value: raw,
      message: `Invalid config in ${file}: the file must hold a table of keys: current value is ${
        describeValue(raw)
      }`,
    });
  }
  applySection(schema, schema, target, raw, file, warnings, []);
}

function applySection(
  root: ObjectSpec,
  schema: ObjectSpec,
  target: Record<string, unknown>,
  raw: Record<string, unknown>,
  file: string,
  warnings: string[],
  prefix: readonly string[],
): void {
  for (const [name, value] of Object.entries(raw)) {
    const segments = [...prefix, name];
    const key = segments.join(".");
    const field = Object.hasOwn(schema.fields, name) ? schema.fields[name] : undefined;
    if (field === undefined) {
      warnings.push(unknownKeyWarning(key, file, root));
      continue;
    }
    if (value === null) continue;
    if (isObjectSpec(field)) {
      if (!isTable(value)) throw new ConfigError({ file, key, expected: "a table", value });
      applySection(root, field, target[name] as Record<string, unknown>, value, file, warnings, segments);
      continue;
    }
    const parsed = field.parse(value, false);
    if (!parsed.ok) {
      throw new ConfigError({ file, key: key + parsed.at, expected: parsed.expected, value: parsed.value });
    }
    target[name] = parsed.value;
  }
}

/**
 * Applies `DUE_…` env variables onto `target`. Variables that name no key are ignored (other `DUE_` variables
 * exist), and so are empty ones.
 *
 * @throws {ConfigError} naming the variable, for the first invalid value
 */
export function applyEnv(
  schema: ObjectSpec,
  target: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const [name, entry] of indexOf(schema).envNames) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    setPath(target, entry.segments, parseText(entry, value, `env ${name}`));
  }
}

function parseText(entry: LeafEntry, value: string, file: string): unknown {
  const parsed = entry.spec.parse(value, true);
  if (!parsed.ok) {
    throw new ConfigError({
      file,
      key: entry.path + parsed.at,
      expected: parsed.expected,
      value: parsed.value,
    });
  }
  return parsed.value;
}

/**
 * Applies flags (`{ "network.tcp.server.addr": ":3600" }`, a leading `--` is allowed) onto `target`.
 *
 * @throws {ConfigError} naming the flag, for a key that does not exist or an invalid value
 */
export function applyFlags(
  schema: ObjectSpec,
  target: Record<string, unknown>,
  flags: Readonly<Record<string, string>>,
): void {
  const index = indexOf(schema);
  for (const [rawKey, value] of Object.entries(flags)) {
    const key = rawKey.replace(/^--/, "");
    const file = `flag --${key}`;
    const entry = index.leaves.get(key);
    if (entry === undefined) {
      if (index.sections.has(key)) {
        const first = index.known.find((known) => known.startsWith(key + ".") && index.leaves.has(known));
        throw new ConfigError({
          file,
          key,
          expected: "a config key",
          value,
          message:
            `Invalid config in ${file}: '${key}' is a section, not a key: name one of its keys, e.g. '${first}'`,
        });
      }
      const suggestion = closestKey(key, index.known);
      throw new ConfigError({
        file,
        key,
        expected: "a config key",
        value,
        message: `Invalid config in ${file}: '${key}' is not a config key${
          suggestion === undefined ? "" : `: did you mean '${suggestion}'?`
        }`,
      });
    }
    setPath(target, entry.segments, parseText(entry, value, file));
  }
}

/** Options of {@linkcode resolveConfig}. */
export interface ResolveConfigOptions {
  /** What the input is called in messages. @default "config" */
  file?: string;
  /** The config the input applies onto. @default the defaults */
  base?: DueConfig;
}

/** A validated config and the warnings raised on the way. */
export interface ResolvedConfig {
  /** The config: every key present, durations in ms, sizes in bytes. */
  config: DueConfig;
  /** One line per unknown key, naming the file and the closest known key. */
  warnings: string[];
}

/**
 * Validates a partial config (as written in a file or given by an embedder) and fills in the defaults.
 *
 * @param input a table of config keys; durations and sizes as strings or numbers
 * @param options a name for messages and the config to apply onto
 * @throws {ConfigError} for the first invalid value
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./resolve.ts";
 * const { config } = resolveConfig({ network: { tcp: { server: { heartbeatInterval: "30s" } } } });
 * console.assert(config.network.tcp.server.heartbeatInterval === 30_000);
 * console.assert(config.network.tcp.server.addr === ":3553");
 * ```
 */
export function resolveConfig(input: DueConfigInput, options: ResolveConfigOptions = {}): ResolvedConfig {
  const { file = "config", base } = options;
  const config = base === undefined ? defaults(dueSchema) : structuredClone(base);
  const warnings: string[] = [];
  applyTable(dueSchema, config as Record<string, unknown>, input, file, warnings);
  return { config, warnings };
}

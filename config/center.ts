/**
 * The business config centre: game settings kept outside the startup config, in files or etcd, read by key
 * (`center.get("game.maxPlayers")`, where `game` is the file name) and reloaded when they change.
 *
 * @module
 */

import { DueError, ErrorCode } from "../core/errors.ts";
import { createLogger, type Logger } from "../core/logger.ts";
import type { ConfigFile, ConfigSource, ConfigWatcher } from "../adapters/configsource/types.ts";
import { formatOf } from "./format.ts";

/** Options of {@linkcode createConfigCenter}. */
export interface ConfigCenterOptions {
  /** Where the config lives; for the same file name, later sources override earlier ones key by key. */
  sources: readonly ConfigSource[];
  /** Whether the first full {@linkcode ConfigCenter.load} starts watching the readable sources. @default true */
  hotReload?: boolean;
  /** Where failed reloads are logged. @default a console logger */
  logger?: Logger;
}

/** One file whose values changed. */
export interface ConfigChange {
  /** The file name without extension (the first key segment). */
  name: string;
  /** The new content, or `undefined` when the file is gone. Treat as read-only. */
  value: Record<string, unknown> | undefined;
  /** What changed it: a source name (`file`, `etcd`), `load` or `set`. */
  origin: string;
}

/** Options of {@linkcode ConfigCenter.watch}. */
export interface ConfigWatchOptions {
  /** Only these file names (without extension). @default every file */
  names?: readonly string[];
}

/** Options of {@linkcode ConfigCenter.store}. */
export interface ConfigStoreOptions {
  /** Only the source of this name (`file`, `etcd`). @default every writable source */
  source?: string;
}

/** The business config centre. */
export interface ConfigCenter {
  /**
   * Reads every file from the readable sources (or only the files called `name`); the first full load also
   * starts hot reload.
   *
   * @throws {ConfigError} for a file that cannot be parsed (nothing is replaced then)
   */
  load(name?: string): Promise<void>;
  /**
   * The value at a dotted key (`"game.rooms.max"`, list items by index: `"game.levels.0"`), or `undefined`.
   * Tables and lists are the centre's own: read them, change values with {@linkcode ConfigCenter.set}.
   */
  get<T = unknown>(key: string): T | undefined;
  /** The value at a dotted key, or `defaultValue` when absent. */
  get<T>(key: string, defaultValue: T): T;
  /** Whether a dotted key has a value. */
  has(key: string): boolean;
  /**
   * Sets a value in memory (not in the sources; see {@linkcode ConfigCenter.store}) and notifies watchers. The
   * next reload of that file replaces it.
   */
  set(key: string, value: unknown): void;
  /** Calls `callback` for each file whose values change; returns a function that stops it. */
  watch(callback: (change: ConfigChange) => void, options?: ConfigWatchOptions): () => void;
  /**
   * Writes a whole file (`"game.toml"`: the extension picks the format) to the writable sources, then reads it
   * back from the readable ones.
   *
   * @throws a `DueError` (`illegal_request`) when no source may be written
   */
  store(file: string, value: Record<string, unknown>, options?: ConfigStoreOptions): Promise<void>;
  /** Stops hot reload and closes every source. */
  close(): Promise<void>;
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Sets an own key; a `"__proto__"` key stays a key instead of replacing the prototype. */
function defineKey(target: Table, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function mergeInto(target: Table, source: Table): Table {
  for (const [key, value] of Object.entries(source)) {
    const current = Object.hasOwn(target, key) ? target[key] : undefined;
    defineKey(
      target,
      key,
      isTable(current) && isTable(value) ? mergeInto(current, value) : structuredClone(value),
    );
  }
  return target;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameValue((a as Table)[key], (b as Table)[key]));
}

function filesByName(files: readonly ConfigFile[]): Map<string, Table> {
  const byName = new Map<string, Table>();
  for (const file of files) byName.set(file.name, mergeInto(byName.get(file.name) ?? {}, file.content));
  return byName;
}

function lookup(root: unknown, segments: readonly string[]): { found: boolean; value: unknown } {
  let node = root;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) {
      node = node[Number(segment)];
    } else if (isTable(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/**
 * Creates a config centre over sources.
 *
 * @example
 * ```ts ignore
 * import { createConfigCenter } from "./center.ts";
 * import { createFileConfigSource } from "../adapters/configsource/file.ts";
 * const center = createConfigCenter({ sources: [createFileConfigSource({ path: "./config" })] });
 * await center.load();                                   // reads ./config/*.toml|json|yaml|xml, starts watching
 * const max = center.get("game.maxPlayers", 4);          // key maxPlayers of game.toml
 * const stop = center.watch(({ name }) => console.log(`${name} changed`));
 * stop();
 * await center.close();
 * ```
 */
export function createConfigCenter(options: ConfigCenterOptions): ConfigCenter {
  const { sources, hotReload = true, logger = createLogger({ attrs: { component: "config" } }) } = options;
  if (!Array.isArray(sources)) {
    throw new TypeError(
      `Cannot create config centre as 'sources' must be a list: current value is ${sources}`,
    );
  }
  const bySource = new Map<ConfigSource, Map<string, Table>>(sources.map((source) => [source, new Map()]));
  const values = new Map<string, Table>();
  const callbacks = new Set<{ callback: (change: ConfigChange) => void; names?: Set<string> }>();
  const sourceWatchers: ConfigWatcher[] = [];
  let watching: Promise<void> | undefined;
  let closed = false;

  function notify(change: ConfigChange): void {
    for (const entry of [...callbacks]) {
      if (entry.names && !entry.names.has(change.name)) continue;
      try {
        entry.callback(change);
      } catch (err) {
        logger.error("config watch callback failed", { name: change.name, error: err });
      }
    }
  }

  /** Merges `names` again from the sources; notifies for each that changed. */
  function recompute(names: Iterable<string>, origin: string): void {
    for (const name of new Set(names)) {
      let merged: Table | undefined;
      for (const source of sources) {
        const content = bySource.get(source)!.get(name);
        if (content !== undefined) merged = mergeInto(merged ?? {}, content);
      }
      const current = values.get(name);
      if (sameValue(current, merged)) continue;
      if (merged === undefined) values.delete(name);
      else values.set(name, merged);
      notify({ name, value: merged, origin });
    }
  }

  function readable(): ConfigSource[] {
    return sources.filter((source) => source.mode !== "write-only");
  }

  function watchSource(source: ConfigSource): ConfigWatcher {
    return source.watch(
      ({ files, failures }) => {
        const own = bySource.get(source)!;
        const next = filesByName(files);
        for (const failure of failures) {
          logger.error("config file reload failed, keeping its last good values", {
            source: source.name,
            file: failure.file,
            error: failure.error,
          });
          const previous = own.get(failure.name);
          if (previous !== undefined) next.set(failure.name, previous);
        }
        const names = [...own.keys(), ...next.keys()];
        bySource.set(source, next);
        recompute(names, source.name);
      },
      (err) => logger.error("config source watch failed", { source: source.name, error: err }),
    );
  }

  /** Watches every readable source; all or none (a failure stops those started). */
  async function startWatching(): Promise<void> {
    const started: ConfigWatcher[] = [];
    try {
      for (const source of readable()) started.push(watchSource(source));
    } catch (err) {
      await Promise.all(started.map((watcher) => watcher.stop()));
      throw err;
    }
    sourceWatchers.push(...started);
    await Promise.all(started.map((watcher) => watcher.ready));
  }

  function assertOpen(action: string): void {
    if (closed) throw new DueError(ErrorCode.Closed, `Cannot ${action} as the config centre is closed`);
  }

  async function load(name?: string): Promise<void> {
    assertOpen("load config");
    // Watch before reading, so that no change between the read and the watch is missed.
    if (name === undefined && hotReload) {
      watching ??= startWatching().catch((err) => {
        watching = undefined;
        throw err;
      });
      await watching;
    }
    const sourcesToRead = readable();
    const results = await Promise.all(sourcesToRead.map((source) => source.load(name)));
    const names: string[] = [];
    sourcesToRead.forEach((source, i) => {
      const own = bySource.get(source)!;
      const next = filesByName(results[i]);
      if (name === undefined) {
        names.push(...own.keys(), ...next.keys());
        bySource.set(source, next);
      } else {
        names.push(name);
        const content = next.get(name);
        if (content === undefined) own.delete(name);
        else own.set(name, content);
      }
    });
    recompute(names, "load");
  }

  function get<T>(key: string, defaultValue?: T): T | undefined {
    const [name, ...rest] = key.split(".");
    const { found, value } = lookup(values.get(name), rest);
    return found ? value as T : defaultValue;
  }

  function has(key: string): boolean {
    const [name, ...rest] = key.split(".");
    return values.has(name) && lookup(values.get(name), rest).found;
  }

  function set(key: string, value: unknown): void {
    assertOpen(`set ${key}`);
    const [name, ...rest] = key.split(".");
    if (name === "" || rest.some((segment) => segment === "")) {
      throw new TypeError(
        `Cannot set config as 'key' must be a dotted key like "game.maxPlayers": current value is "${key}"`,
      );
    }
    if (rest.length === 0) {
      if (!isTable(value)) {
        throw new TypeError(
          `Cannot set config file "${name}" as its value must be a table: current value is ${value}`,
        );
      }
      values.set(name, structuredClone(value));
    } else {
      const root = structuredClone(values.get(name) ?? {});
      let node: Table = root;
      for (const segment of rest.slice(0, -1)) {
        if (!Object.hasOwn(node, segment) || !isTable(node[segment])) defineKey(node, segment, {});
        node = node[segment] as Table;
      }
      defineKey(node, rest[rest.length - 1], structuredClone(value));
      values.set(name, root);
    }
    notify({ name, value: values.get(name), origin: "set" });
  }

  function watch(
    callback: (change: ConfigChange) => void,
    watchOptions: ConfigWatchOptions = {},
  ): () => void {
    const entry = { callback, names: watchOptions.names ? new Set(watchOptions.names) : undefined };
    callbacks.add(entry);
    return () => void callbacks.delete(entry);
  }

  async function store(file: string, value: Record<string, unknown>, storeOptions: ConfigStoreOptions = {}) {
    assertOpen(`store ${file}`);
    if (formatOf(file) === undefined) {
      throw new TypeError(
        `Cannot store config as 'file' must end in .toml, .json, .yaml, .yml or .xml: current value is "${file}"`,
      );
    }
    const targets = sources.filter((source) =>
      source.mode !== "read-only" &&
      (storeOptions.source === undefined || source.name === storeOptions.source)
    );
    if (targets.length === 0) {
      const modes = sources.map((source) => `${source.name} ${source.mode}`).join(", ") || "no sources";
      throw new DueError(
        ErrorCode.IllegalRequest,
        `Cannot store ${file} as no config source may be written: ${modes}`,
      );
    }
    for (const source of targets) await source.store(file, value);
    if (targets.some((source) => source.mode === "read-write")) {
      await load(file.slice(0, file.lastIndexOf(".")));
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    callbacks.clear();
    await watching?.catch(() => {});
    await Promise.all(sourceWatchers.map((watcher) => watcher.stop()));
    await Promise.all(sources.map((source) => source.close()));
  }

  return { load, get, has, set, watch, store, close } as ConfigCenter;
}

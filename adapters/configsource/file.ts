/**
 * The file config source: a directory of `.toml`, `.json`, `.yaml`/`.yml` and `.xml` files (hidden files and
 * other extensions are skipped, sub-directories too), watched with `Deno.watchFs` for hot reload.
 *
 * @module
 */

import { ConfigError } from "../../config/config_error.ts";
import { stringifyConfig } from "../../config/format.ts";
import {
  assertReadable,
  assertWritable,
  checkFileName,
  checkMode,
  debounced,
  isConfigFileName,
  nameOf,
  toConfigFile,
} from "./_common.ts";
import {
  type ConfigFile,
  type ConfigFileFailure,
  type ConfigSource,
  type ConfigSourceChange,
  type ConfigSourceMode,
  type ConfigWatcher,
  DEFAULT_WATCH_DEBOUNCE_MS,
} from "./types.ts";

/** The directory read when none is given (due's `config.file.path`). */
export const DEFAULT_FILE_CONFIG_PATH = "./config";

/** Options of {@linkcode createFileConfigSource}. */
export interface FileConfigSourceOptions {
  /** The directory. @default "./config" */
  path?: string;
  /** What the application may do. @default "read-only" */
  mode?: ConfigSourceMode;
  /** Quiet time after a change before the files are read again, in ms. @default 100 */
  debounceMs?: number;
}

/**
 * Creates a config source over a directory.
 *
 * @example
 * ```ts ignore
 * import { createFileConfigSource } from "./file.ts";
 * const source = createFileConfigSource({ path: "./config", mode: "read-write" });
 * await source.store("game.toml", { maxPlayers: 4 });
 * console.log(await source.load("game")); // [{ name: "game", file: "game.toml", format: "toml", content: { maxPlayers: 4 } }]
 * await source.close();
 * ```
 */
export function createFileConfigSource(options: FileConfigSourceOptions = {}): ConfigSource {
  const { path = DEFAULT_FILE_CONFIG_PATH, mode = "read-only", debounceMs = DEFAULT_WATCH_DEBOUNCE_MS } =
    options;
  checkMode("file", mode);
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot create file config source as 'path' must be a non-empty string: current value is ${
        JSON.stringify(path)
      }`,
    );
  }
  if (!(debounceMs >= 0)) {
    throw new RangeError(
      `Cannot create file config source as 'debounceMs' must be >= 0: current value is ${debounceMs}`,
    );
  }
  const dir = path.replace(/\/+$/, "") || "/";
  const watchers = new Set<ConfigWatcher>();
  let closed = false;

  function pathOf(file: string): string {
    return `${dir}/${file}`;
  }

  async function listFiles(): Promise<string[]> {
    const files: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (entry.isFile && isConfigFileName(entry.name)) files.push(entry.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && mode === "read-write") return files;
      throw new ConfigError({
        file: dir,
        expected: "a readable directory",
        value: dir,
        message: `Cannot read config directory ${dir}: ${
          err instanceof Deno.errors.NotFound ? "no such directory" : (err as Error).message
        }`,
        cause: err,
      });
    }
    return files.sort();
  }

  async function readAll(name?: string): Promise<ConfigSourceChange> {
    const files: ConfigFile[] = [];
    const failures: ConfigFileFailure[] = [];
    for (const file of await listFiles()) {
      if (name !== undefined && nameOf(file) !== name) continue;
      try {
        files.push(toConfigFile(file, await Deno.readTextFile(pathOf(file)), pathOf(file)));
      } catch (err) {
        // A file removed between listing and reading is simply gone.
        if (err instanceof Deno.errors.NotFound) continue;
        failures.push({ name: nameOf(file), file, error: err as Error });
      }
    }
    return { files, failures };
  }

  async function load(name?: string): Promise<ConfigFile[]> {
    assertReadable("file", mode, `load config from ${dir}`);
    const { files, failures } = await readAll(name);
    if (failures.length > 0) throw failures[0].error;
    return files;
  }

  async function store(file: string, content: Record<string, unknown>): Promise<void> {
    assertWritable("file", mode, `store ${file} in ${dir}`);
    const { format } = checkFileName("file", file);
    const text = stringifyConfig(content, format);
    await Deno.mkdir(dir, { recursive: true });
    // Write a hidden temporary file, then rename: readers never see half a file.
    const temp = pathOf(`.${file}.${crypto.randomUUID()}.tmp`);
    await Deno.writeTextFile(temp, text);
    try {
      await Deno.rename(temp, pathOf(file));
    } catch (err) {
      await Deno.remove(temp).catch(() => {});
      throw err;
    }
  }

  function watch(
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    assertReadable("file", mode, `watch ${dir}`);
    if (mode === "read-write") Deno.mkdirSync(dir, { recursive: true });
    let fsWatcher: Deno.FsWatcher;
    try {
      fsWatcher = Deno.watchFs(dir, { recursive: false });
    } catch (err) {
      throw new ConfigError({
        file: dir,
        expected: "a readable directory",
        value: dir,
        message: `Cannot watch config directory ${dir}: ${
          err instanceof Deno.errors.NotFound ? "no such directory" : (err as Error).message
        }`,
        cause: err,
      });
    }
    let reading: Promise<void> = Promise.resolve();
    let stopped = false;
    const report = (err: unknown) => onError?.(err instanceof Error ? err : new Error(String(err)));
    const reload = debounced(debounceMs, () => {
      reading = reading.then(async () => {
        if (stopped) return;
        try {
          const change = await readAll();
          if (!stopped) onChange(change);
        } catch (err) {
          report(err);
        }
      });
    });
    const loop = (async () => {
      try {
        for await (const event of fsWatcher) {
          if (event.kind === "access" || event.kind === "other") continue;
          if (event.paths.some(isConfigFileName)) reload.schedule();
        }
      } catch (err) {
        if (!stopped) report(err);
      }
    })();
    const watcher: ConfigWatcher = {
      ready: Promise.resolve(),
      async stop() {
        if (stopped) return;
        stopped = true;
        watchers.delete(watcher);
        reload.cancel();
        try {
          fsWatcher.close();
        } catch {
          // Already closed.
        }
        await loop;
        await reading;
      },
    };
    watchers.add(watcher);
    return watcher;
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all([...watchers].map((watcher) => watcher.stop()));
  }

  return { name: "file", mode, load, store, watch, close } satisfies ConfigSource;
}

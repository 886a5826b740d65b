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
  type ChangeFeed,
  checkFileName,
  checkSourceOptions,
  filesOrThrow,
  isConfigFileName,
  readConfigFiles,
  WatchSet,
} from "./_common.ts";
import {
  type ConfigFile,
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
  checkSourceOptions("file", { path, mode, debounceMs });
  const dir = path.replace(/\/+$/, "") || "/";
  const watches = new WatchSet("file", debounceMs, () => readAll());
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
      throw directoryError("read", err);
    }
    return files.sort();
  }

  function directoryError(action: string, err: unknown): ConfigError {
    return new ConfigError({
      file: dir,
      expected: "a readable directory",
      value: dir,
      message: `Cannot ${action} config directory ${dir}: ${
        err instanceof Deno.errors.NotFound ? "no such directory" : (err as Error).message
      }`,
      cause: err,
    });
  }

  async function readAll(name?: string): Promise<ConfigSourceChange> {
    return await readConfigFiles(await listFiles(), name, async (file) => {
      try {
        return { text: await Deno.readTextFile(pathOf(file)), label: pathOf(file) };
      } catch (err) {
        // A file removed between listing and reading is simply gone.
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    });
  }

  async function load(name?: string): Promise<ConfigFile[]> {
    assertReadable("file", mode, `load config from ${dir}`);
    return filesOrThrow(await readAll(name));
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

  function watchDir(changed: () => void, report: (err: unknown) => void): ChangeFeed {
    let fsWatcher: Deno.FsWatcher;
    try {
      fsWatcher = Deno.watchFs(dir, { recursive: false });
    } catch (err) {
      throw directoryError("watch", err);
    }
    let stopping = false;
    const loop = (async () => {
      try {
        for await (const event of fsWatcher) {
          if (event.kind === "access" || event.kind === "other") continue;
          if (event.paths.some(isConfigFileName)) changed();
        }
      } catch (err) {
        if (!stopping) report(err);
      }
    })();
    return {
      ready: Promise.resolve(),
      async stop() {
        stopping = true;
        try {
          fsWatcher.close();
        } catch {
          // Already closed.
        }
        await loop;
      },
    };
  }

  function watch(
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    assertReadable("file", mode, `watch ${dir}`);
    if (mode === "read-write") Deno.mkdirSync(dir, { recursive: true });
    return watches.watch(watchDir, onChange, onError);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await watches.close();
  }

  return { name: "file", mode, load, store, watch, close } satisfies ConfigSource;
}

/** Helpers shared by the config sources. Private to `adapters/configsource/`. @module */

import { ClosedError, DueError, ErrorCode } from "../../core/errors.ts";
import { ConfigError } from "../../config/config_error.ts";
import { type ConfigFormat, extensionOf, formatOf, parseConfigText } from "../../config/format.ts";
import type {
  ConfigFile,
  ConfigFileFailure,
  ConfigSourceChange,
  ConfigSourceMode,
  ConfigWatcher,
} from "./types.ts";

/** The modes a source accepts. */
const MODES: readonly ConfigSourceMode[] = ["read-only", "write-only", "read-write"];

/** Throws if `mode` is not one of {@linkcode MODES}, `path` is not a non-empty string or `debounceMs` < 0. */
export function checkSourceOptions(
  source: string,
  settings: { path: unknown; mode: unknown; debounceMs: number },
): void {
  const { path, mode, debounceMs } = settings;
  if (!MODES.includes(mode as ConfigSourceMode)) {
    throw new TypeError(
      `Cannot create ${source} config source as 'mode' must be one of ${MODES.join("|")}: current value is ${
        JSON.stringify(mode)
      }`,
    );
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot create ${source} config source as 'path' must be a non-empty string: current value is ${
        JSON.stringify(path)
      }`,
    );
  }
  if (!(debounceMs >= 0)) {
    throw new RangeError(
      `Cannot create ${source} config source as 'debounceMs' must be >= 0: current value is ${debounceMs}`,
    );
  }
}

/** Throws unless the source may be read. */
export function assertReadable(source: string, mode: ConfigSourceMode, action: string): void {
  if (mode === "write-only") {
    throw new DueError(
      ErrorCode.IllegalRequest,
      `Cannot ${action} as the ${source} config source is write-only`,
    );
  }
}

/** Throws unless the source may be written. */
export function assertWritable(source: string, mode: ConfigSourceMode, action: string): void {
  if (mode === "read-only") {
    throw new DueError(
      ErrorCode.IllegalRequest,
      `Cannot ${action} as the ${source} config source is read-only`,
    );
  }
}

const FILE_NAME_REGEXP = /^[^./\\][^/\\]*$/;

/** The name and format of a file name to store; throws for paths, hidden names and unknown extensions. */
export function checkFileName(source: string, file: string): { name: string; format: ConfigFormat } {
  const format = formatOf(file);
  if (!FILE_NAME_REGEXP.test(file) || format === undefined) {
    throw new TypeError(
      `Cannot store config in ${source} source as 'file' must be a name ending in .toml, .json, .yaml, .yml or .xml: current value is ${
        JSON.stringify(file)
      }`,
    );
  }
  return { name: nameOf(file), format };
}

/** `game.toml` → `game`. */
function nameOf(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const ext = extensionOf(base);
  return ext === "" ? base : base.slice(0, -ext.length - 1);
}

/** Whether a file name is one a source reads: not hidden, with a known extension. */
export function isConfigFileName(file: string): boolean {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return !base.startsWith(".") && formatOf(base) !== undefined;
}

/**
 * Parses one file's text into a {@linkcode ConfigFile}; the content must be a table.
 *
 * @param file the file name with extension
 * @param text its content
 * @param label how messages name it (a path or key)
 */
function toConfigFile(file: string, text: string, label: string): ConfigFile {
  const format = formatOf(file)!;
  const content = parseConfigText(text, format, label);
  if (typeof content !== "object" || content === null || Array.isArray(content)) {
    throw new ConfigError({
      file: label,
      key: "(root)",
      expected: "a table",
      value: content,
      message: `Cannot use ${label} as config: its content must be a table, not ${
        Array.isArray(content) ? "a list" : typeof content
      }`,
    });
  }
  return { name: nameOf(file), file, format, content: content as Record<string, unknown> };
}

/**
 * Reads and parses the config files among `keys` (file names, or etcd keys whose last segment is the file name),
 * only those called `name` when it is given. A file that cannot be read or parsed is a failure, not an error.
 *
 * @param read the text of one key and how messages name it, or `undefined` when the key is gone meanwhile
 */
export async function readConfigFiles(
  keys: readonly string[],
  name: string | undefined,
  read: (key: string) => Promise<{ text: string; label: string } | undefined>,
): Promise<ConfigSourceChange> {
  const files: ConfigFile[] = [];
  const failures: ConfigFileFailure[] = [];
  for (const key of keys) {
    const file = key.slice(key.lastIndexOf("/") + 1);
    if (!isConfigFileName(file)) continue;
    if (name !== undefined && nameOf(file) !== name) continue;
    try {
      const found = await read(key);
      if (found !== undefined) files.push(toConfigFile(file, found.text, found.label));
    } catch (err) {
      failures.push({ name: nameOf(file), file, error: err as Error });
    }
  }
  return { files, failures };
}

/**
 * The keys directly under `prefix` (which ends with `/`), sorted: a key further down (`prefix/a/b.toml`) is not a
 * file of the source, as a subdirectory is not one of a directory's files.
 */
export function keysDirectlyUnder(prefix: string, keys: Iterable<string>): string[] {
  return [...keys].filter((key) => key.startsWith(prefix) && !key.includes("/", prefix.length)).sort();
}

/** The files of a change; throws the first failure if there is one. */
export function filesOrThrow(change: ConfigSourceChange): ConfigFile[] {
  if (change.failures.length > 0) throw change.failures[0].error;
  return change.files;
}

/** What a backend watches for one {@linkcode ConfigWatcher}: a directory, a key prefix. */
export interface ChangeFeed {
  /** Resolves once changes are being watched. */
  readonly ready: Promise<void>;
  /** Stops watching; resolves once its resources are released. */
  stop(): Promise<void>;
}

/** Starts a {@linkcode ChangeFeed} that calls `changed()` after each relevant change and `report()` on failures. */
export type StartChangeFeed = (changed: () => void, report: (err: unknown) => void) => ChangeFeed;

/**
 * The watches of one source. Each watch reads the source again (one read at a time) `debounceMs` after the last
 * change its feed reports, and hands the result to `onChange` until it is stopped.
 */
export class WatchSet {
  readonly #source: string;
  readonly #debounceMs: number;
  readonly #readAll: () => Promise<ConfigSourceChange>;
  readonly #watchers = new Set<ConfigWatcher>();
  #closed = false;

  /**
   * @param source the source's name, for messages (`consul`)
   * @param debounceMs quiet time after a change before reading again
   * @param readAll reads every file of the source
   */
  constructor(source: string, debounceMs: number, readAll: () => Promise<ConfigSourceChange>) {
    this.#source = source;
    this.#debounceMs = debounceMs;
    this.#readAll = readAll;
  }

  /**
   * Starts a watch over the feed `start` opens.
   *
   * @throws {ClosedError} once {@linkcode WatchSet.close} was called: its feed would run with nothing to stop it
   */
  watch(
    start: StartChangeFeed,
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    if (this.#closed) {
      throw new ClosedError(`Cannot watch the ${this.#source} config source: it is closed`);
    }
    const watchers = this.#watchers;
    const readAll = this.#readAll;
    let stopped = false;
    let reading: Promise<void> = Promise.resolve();
    const report = (err: unknown) => onError?.(err instanceof Error ? err : new Error(String(err)));
    const reload = debounced(this.#debounceMs, () => {
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
    const feed = start(() => reload.schedule(), report);
    const watcher: ConfigWatcher = {
      ready: feed.ready,
      async stop() {
        if (stopped) return;
        stopped = true;
        watchers.delete(watcher);
        reload.cancel();
        await feed.stop();
        await reading;
      },
    };
    watchers.add(watcher);
    return watcher;
  }

  /** Stops every watch still running and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#watchers].map((watcher) => watcher.stop()));
  }
}

/** A debounced call: `schedule()` (re)starts the timer, `cancel()` clears it. */
function debounced(ms: number, fn: () => void): { schedule(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    schedule() {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        fn();
      }, ms);
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

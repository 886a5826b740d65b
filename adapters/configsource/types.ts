/**
 * The interface of a business config source (a directory of files, etcd keys, …) read by the config centre
 * (`config/center.ts`). A source lists files — each a table of keys whose name without extension is the first
 * key segment — writes one file, and watches for changes.
 *
 * @module
 */

import type { ConfigError } from "../../config/config_error.ts";
import type { ConfigFormat } from "../../config/format.ts";

/** What the application may do with a source: read it, write it, or both. */
export type ConfigSourceMode = "read-only" | "write-only" | "read-write";

/** One config file of a source. */
export interface ConfigFile {
  /** The name without extension: the first segment of its keys (`game` for `game.toml`). */
  name: string;
  /** The file name with extension, e.g. `game.toml`. */
  file: string;
  /** The format, from the extension. */
  format: ConfigFormat;
  /** The parsed content. */
  content: Record<string, unknown>;
}

/** A file that could not be read or parsed. */
export interface ConfigFileFailure {
  /** The name without extension. */
  name: string;
  /** The file name with extension. */
  file: string;
  /** Why, naming the file and the line when known. */
  error: ConfigError | Error;
}

/** What a source saw after a change: every file it could read, and those it could not. */
export interface ConfigSourceChange {
  /** The files, read again. */
  files: ConfigFile[];
  /** The files that failed (their last good content should stay in use). */
  failures: ConfigFileFailure[];
}

/** A running watch. */
export interface ConfigWatcher {
  /** Resolves once changes are being watched (a failure to start is reported to `onError`). */
  readonly ready: Promise<void>;
  /** Stops watching; resolves when its resources are released. */
  stop(): Promise<void>;
}

/** A business config source. */
export interface ConfigSource {
  /** The backend name: `file`, `etcd`, … */
  readonly name: string;
  /** What the application may do with it. */
  readonly mode: ConfigSourceMode;
  /**
   * Reads every file, or those called `name` (without extension).
   *
   * @throws {ConfigError} for a file that cannot be parsed; a `DueError` if the mode is write-only
   */
  load(name?: string): Promise<ConfigFile[]>;
  /**
   * Writes one file, replacing it.
   *
   * @param file the file name with extension (`game.toml`), which picks the format
   * @param content the table to write
   * @throws a `DueError` if the mode is read-only
   */
  store(file: string, content: Record<string, unknown>): Promise<void>;
  /**
   * Calls `onChange` after files change (debounced) with all files read again.
   *
   * @throws a `DueError` if the mode is write-only
   */
  watch(onChange: (change: ConfigSourceChange) => void, onError?: (err: Error) => void): ConfigWatcher;
  /** Stops every watch and releases connections. */
  close(): Promise<void>;
}

/** How long sources wait after a change for more changes before reading again. */
export const DEFAULT_WATCH_DEBOUNCE_MS = 100;

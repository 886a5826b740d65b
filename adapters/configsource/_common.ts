/** Helpers shared by the config sources. Private to `adapters/configsource/`. @module */

import { DueError, ErrorCode } from "../../core/errors.ts";
import { ConfigError } from "../../config/config_error.ts";
import { type ConfigFormat, extensionOf, formatOf, parseConfigText } from "../../config/format.ts";
import type { ConfigFile, ConfigSourceMode } from "./types.ts";

/** The modes a source accepts. */
export const MODES: readonly ConfigSourceMode[] = ["read-only", "write-only", "read-write"];

/** Throws if `mode` is not one of {@linkcode MODES}. */
export function checkMode(source: string, mode: unknown): ConfigSourceMode {
  if (!MODES.includes(mode as ConfigSourceMode)) {
    throw new TypeError(
      `Cannot create ${source} config source as 'mode' must be one of read-only|write-only|read-write: current value is ${
        JSON.stringify(mode)
      }`,
    );
  }
  return mode as ConfigSourceMode;
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
export function nameOf(file: string): string {
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
export function toConfigFile(file: string, text: string, label: string): ConfigFile {
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

/** A debounced call: `schedule()` (re)starts the timer, `cancel()` clears it. */
export function debounced(ms: number, fn: () => void): { schedule(): void; cancel(): void } {
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

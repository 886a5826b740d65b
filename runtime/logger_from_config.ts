/**
 * Builds the process logger from `log.*`: level, console format, and the terminals listed.
 *
 * @module
 */

import { createConsoleSink, createLogger } from "../core/logger.ts";
import type { Logger, LogSink } from "../core/logger.ts";
import type { DueConfig } from "../config/schema.ts";

/** Creates the logger `config.log` describes; `attrs` go on every line (e.g. the process's roles). */
export function loggerFromConfig(log: DueConfig["log"], attrs: Record<string, unknown> = {}): Logger {
  const sinks: LogSink[] = [];
  for (const terminal of log.terminals) {
    if (terminal === "console") sinks.push(createConsoleSink({ format: log.console.format }));
  }
  return createLogger({ level: log.level, sinks, attrs });
}

/**
 * Builds the process logger from `log.*`: level, and one sink per terminal listed (`console`, `file`, `aliyun`,
 * `tencent`). Sinks other than the console load lazily.
 *
 * @module
 */

import { createConsoleSink, createLogger } from "../core/logger.ts";
import type { Logger, LogSink } from "../core/logger.ts";
import { createLogSink } from "../adapters/log/mod.ts";
import type { DueConfig } from "../config/schema.ts";

/** A logger and the means to flush and close its sinks. */
export interface ConfiguredLogger {
  /** The logger. */
  logger: Logger;
  /** Flushes and closes every sink. */
  close(): Promise<void>;
}

/** Creates the logger `config.log` describes. */
export async function loggerFromConfig(log: DueConfig["log"]): Promise<ConfiguredLogger> {
  const sinks: LogSink[] = [];
  for (const terminal of log.terminals) {
    switch (terminal) {
      case "console":
        sinks.push(createConsoleSink({ format: log.console.format }));
        break;
      case "file": {
        const { path, format, maxAge, maxSize, rotate, compress } = log.file;
        sinks.push(
          await createLogSink("file", {
            path,
            format,
            maxAgeMs: maxAge,
            maxSizeBytes: maxSize,
            rotate,
            compress,
          }),
        );
        break;
      }
      case "aliyun": {
        const { endpoint, accessKeyID, accessKeySecret, project, logstore, topic, source } = log.aliyun;
        sinks.push(
          await createLogSink("aliyun", {
            endpoint,
            accessKeyId: accessKeyID,
            accessKeySecret,
            project,
            logstore,
            topic: topic || undefined,
            source: source || undefined,
          }),
        );
        break;
      }
      case "tencent": {
        const { endpoint, accessKeyID, accessKeySecret, topicID } = log.tencent;
        sinks.push(
          await createLogSink("tencent", {
            endpoint,
            accessKeyId: accessKeyID,
            accessKeySecret,
            topicId: topicID,
          }),
        );
        break;
      }
    }
  }
  return {
    logger: createLogger({ level: log.level, sinks }),
    async close() {
      for (const sink of sinks) await sink.close?.();
    },
  };
}

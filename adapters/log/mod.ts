/**
 * Log sinks beyond the console (due's `log.terminals`), for `createLogger({ sinks })` of `core/logger.ts`:
 *
 * | terminal | factory |
 * |---|---|
 * | `file` | `createFileSink` (rotation, gzip, maxAge cleanup) |
 * | `aliyun` | `createAliyunSink` (SLS PutLogs) |
 * | `tencent` | `createTencentSink` (CLS structuredlog) |
 *
 * @example
 * ```ts ignore
 * import { createLogger } from "../../core/logger.ts";
 * import { createLogSink } from "./mod.ts";
 * const file = await createLogSink("file", { path: "./log/due.log", rotate: "day" });
 * const log = createLogger({ sinks: [file] });
 * log.info("started");
 * await file.close?.();
 * ```
 *
 * @module
 */
import type { LogSink } from "../../core/logger.ts";
import type { FileSinkOptions } from "./file.ts";
import type { AliyunSinkOptions } from "./aliyun.ts";
import type { TencentSinkOptions } from "./tencent.ts";

export type { AliyunSinkOptions, FileSinkOptions, TencentSinkOptions };
export type { CloudLogSink, SinkStats } from "./aliyun.ts";
export type { FileSink, LogRotate } from "./file.ts";

/** The options of each terminal. */
export interface LogSinkDriverOptions {
  file: FileSinkOptions;
  aliyun: AliyunSinkOptions;
  tencent: TencentSinkOptions;
}

/** A terminal name of the `log` config section (besides `console`, in `core/logger.ts`). */
export type LogSinkDriver = keyof LogSinkDriverOptions;

/** Loaders of each terminal's factory. */
export const LOG_SINK_DRIVERS: {
  [D in LogSinkDriver]: () => Promise<(options: LogSinkDriverOptions[D]) => LogSink>;
} = {
  file: () => import("./file.ts").then((m) => m.createFileSink),
  aliyun: () => import("./aliyun.ts").then((m) => m.createAliyunSink),
  tencent: () => import("./tencent.ts").then((m) => m.createTencentSink),
};

/**
 * Loads `driver` and creates its sink.
 *
 * @throws {TypeError} for an unknown driver or bad options
 */
export async function createLogSink<D extends LogSinkDriver>(
  driver: D,
  options: LogSinkDriverOptions[D],
): Promise<LogSink> {
  if (!Object.hasOwn(LOG_SINK_DRIVERS, driver)) {
    throw new TypeError(
      `Cannot create log sink as 'driver' must be one of ${
        Object.keys(LOG_SINK_DRIVERS).join("|")
      }: current value is "${driver}"`,
    );
  }
  return (await LOG_SINK_DRIVERS[driver]())(options);
}

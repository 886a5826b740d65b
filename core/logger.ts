/**
 * Structured, leveled logging. A {@linkcode Logger} takes a constant message plus key/value attributes; every line
 * carries the role and instance id it was created with. Records go to one or more {@linkcode LogSink}s (console
 * here; file and cloud sinks live in `adapters/log/`).
 *
 * On a hot path, test {@linkcode Logger.enabled} before building attributes.
 *
 * @module
 */

/** Log levels, lowest first. */
export const LogLevel = { debug: 0, info: 1, warn: 2, error: 3, off: 4 } as const;
/** The name of a level. */
export type LogLevelName = keyof typeof LogLevel;

/** Attribute values a log record carries. */
export type LogAttrs = Record<string, unknown>;

/** One log record as handed to sinks. */
export interface LogRecord {
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** The level name. */
  level: Exclude<LogLevelName, "off">;
  /** A constant message. */
  msg: string;
  /** Attributes: the logger's own (role, id, …) then the call's. */
  attrs: LogAttrs;
}

/** Where records go. */
export interface LogSink {
  /** Writes one record. Must not throw. */
  write(record: LogRecord): void;
  /** Flushes and releases resources. */
  close?(): Promise<void> | void;
}

/** The logging interface used everywhere in due. */
export interface Logger {
  /** Whether records of `level` are written. */
  enabled(level: Exclude<LogLevelName, "off">): boolean;
  /** Logs at debug level. */
  debug(msg: string, attrs?: LogAttrs): void;
  /** Logs at info level. */
  info(msg: string, attrs?: LogAttrs): void;
  /** Logs at warn level. */
  warn(msg: string, attrs?: LogAttrs): void;
  /** Logs at error level. */
  error(msg: string, attrs?: LogAttrs): void;
  /** A logger that adds `attrs` to every record and shares the sinks and level. */
  with(attrs: LogAttrs): Logger;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default "info" */
  level?: LogLevelName;
  /** Sinks. @default one console sink in text format */
  sinks?: LogSink[];
  /** Attributes on every record, e.g. `{ role: "gate", id: "g1" }`. */
  attrs?: LogAttrs;
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "debug", attrs: { role: "gate", id: "g1" } });
 * log.info("gate started", { addr: ":3553" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = "info", sinks = [createConsoleSink()], attrs = {} } = options;
  const min = LogLevel[level];
  if (min === undefined) {
    throw new TypeError(
      `Cannot create logger as 'level' must be one of debug|info|warn|error|off: current value is "${level}"`,
    );
  }
  return buildLogger(min, sinks, attrs);
}

function buildLogger(min: number, sinks: LogSink[], base: LogAttrs): Logger {
  const emit = (level: Exclude<LogLevelName, "off">, msg: string, attrs?: LogAttrs) => {
    if (LogLevel[level] < min) return;
    const record: LogRecord = { time: Date.now(), level, msg, attrs: attrs ? { ...base, ...attrs } : base };
    for (const sink of sinks) sink.write(record);
  };
  return {
    enabled: (level) => LogLevel[level] >= min,
    debug: (msg, attrs) => emit("debug", msg, attrs),
    info: (msg, attrs) => emit("info", msg, attrs),
    warn: (msg, attrs) => emit("warn", msg, attrs),
    error: (msg, attrs) => emit("error", msg, attrs),
    with: (attrs) => buildLogger(min, sinks, { ...base, ...attrs }),
  };
}

/** A logger that writes nothing (tests, embedding). */
export const silentLogger: Logger = createLogger({ level: "off", sinks: [] });

/** Options of {@linkcode createConsoleSink}. */
export interface ConsoleSinkOptions {
  /** `text` (human) or `json` (one object per line). @default "text" */
  format?: "text" | "json";
  /** Where lines go. @default stderr for warn and error, stdout otherwise */
  write?: (line: string, level: LogRecord["level"]) => void;
}

const encoder = new TextEncoder();

function writeStd(line: string, level: LogRecord["level"]): void {
  const bytes = encoder.encode(line + "\n");
  try {
    (level === "warn" || level === "error" ? Deno.stderr : Deno.stdout).writeSync(bytes);
  } catch {
    // A closed stdout (the parent went away) must not take the process down.
  }
}

/** A sink writing to the console, as text or JSON lines. */
export function createConsoleSink(options: ConsoleSinkOptions = {}): LogSink {
  const { format = "text", write = writeStd } = options;
  const toLine = format === "json" ? formatJson : formatText;
  return { write: (record) => write(toLine(record), record.level) };
}

/** Formats a record as one JSON line: `{"time":"…","level":"info","msg":"…",…attrs}`. */
export function formatJson(record: LogRecord): string {
  return JSON.stringify(
    { time: new Date(record.time).toISOString(), level: record.level, msg: record.msg, ...record.attrs },
    jsonReplacer,
  );
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === "bigint") return value.toString();
  return value;
}

const LEVEL_TAGS = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" } as const;

/** Formats a record as text: `2026-11-25T04:12:31.123Z INFO  [gate g1] msg key=value …`. */
export function formatText(record: LogRecord): string {
  const { role, id, ...rest } = record.attrs;
  let line = `${new Date(record.time).toISOString()} ${LEVEL_TAGS[record.level]}`;
  if (role !== undefined || id !== undefined) line += ` [${role ?? "-"} ${id ?? "-"}]`;
  line += ` ${record.msg}`;
  for (const key in rest) line += ` ${key}=${formatValue(rest[key])}`;
  return line;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") {
    return /^[\w.:/@+-]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  }
  if (typeof value === "object" && value !== null) return JSON.stringify(value, jsonReplacer);
  return String(value);
}

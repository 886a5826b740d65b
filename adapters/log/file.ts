/**
 * A log sink writing to a file (due's `log/file`): buffered writes, rotation by time period and by size, gzip of
 * rotated files and removal of rotated files older than `maxAge`.
 *
 * Records are formatted at once (text or JSON lines, as the console sink) and kept in memory; the buffer is
 * written when it passes `bufferBytes`, every `flushIntervalMs` (an unref'd timer), when the process unloads,
 * and on `flush()`/`close()`. Writes are synchronous, so lines are never interleaved or reordered.
 *
 * Rotation: before a write, the active file (`path`, e.g. `./log/due.log`) is renamed when the time period
 * changed (`rotate` = year|month|week|day|hour, local time, ISO weeks) or when the write would take it past
 * `maxSizeBytes`. The rotated file is named after the period it covers, `due.2026-11-24.log` (`due.2026.log`,
 * `due.2026-11.log`, `due.2026-W48.log`, `due.2026-11-24T09.log`; with `rotate: "none"` the rotation time
 * `due.20261124T091500.log`), with `.1`, `.2`, … before the extension when that name is taken. With `compress`
 * it then becomes `….log.gz` (gzip through `CompressionStream`, in the background; `close()` waits for it).
 * After each rotation, and at start, rotated files older than `maxAgeMs` (by modification time) are removed.
 *
 * @module
 */
import { formatJson, formatText, type LogRecord, type LogSink } from "../../core/logger.ts";

/** Default file, as due's. */
export const DEFAULT_LOG_FILE_PATH = "./log/due.log";
/** Default age after which rotated files are removed, as due's (7 days). */
export const DEFAULT_LOG_FILE_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Default size at which the file is rotated, as due's (100 MiB). */
export const DEFAULT_LOG_FILE_MAX_SIZE_BYTES = 100 * 1024 * 1024;
/** Default buffer size that triggers a write. */
export const DEFAULT_LOG_FILE_BUFFER_BYTES = 64 * 1024;
/** Default interval between two writes of a partial buffer. */
export const DEFAULT_LOG_FILE_FLUSH_INTERVAL_MS = 1_000;

/** Rotation periods, as due's `log.file.rotate`. */
export type LogRotate = "none" | "year" | "month" | "week" | "day" | "hour";
const ROTATES: readonly LogRotate[] = ["none", "year", "month", "week", "day", "hour"];

/** Options of {@linkcode createFileSink}: due's `log.file` keys plus buffering. */
export interface FileSinkOptions {
  /** The active file. @default "./log/due.log" */
  path?: string;
  /** `text` or `json` lines. @default "text" */
  format?: "text" | "json";
  /** Age after which rotated files are removed; 0 keeps them. @default 604800000 (7 days) */
  maxAgeMs?: number;
  /** Size at which the file is rotated; 0 = no size rotation. @default 104857600 (100 MiB) */
  maxSizeBytes?: number;
  /** Time rotation period. @default "none" */
  rotate?: LogRotate;
  /** Gzip rotated files. @default false */
  compress?: boolean;
  /** Buffered bytes that trigger a write. @default 65536 */
  bufferBytes?: number;
  /** Longest time a line waits in the buffer, in milliseconds. @default 1000 */
  flushIntervalMs?: number;
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
  /** Told about write, rotation and cleanup failures. @default a line on stderr */
  onError?: (err: Error) => void;
}

/** A file sink. */
export interface FileSink extends LogSink {
  /** Writes the buffer now (rotating first if due). */
  flush(): void;
  /** Writes the buffer, closes the file and waits for compressions under way. */
  close(): Promise<void>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The ISO 8601 week of a local date: `2026-W48`. */
function isoWeek(date: Date): string {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const day = (d.getDay() + 6) % 7; // Monday = 0
  d.setDate(d.getDate() - day + 3); // the Thursday of this week decides the year
  const year = d.getFullYear();
  const firstThursday = new Date(year, 0, 4);
  firstThursday.setDate(firstThursday.getDate() - ((firstThursday.getDay() + 6) % 7) + 3);
  const week = 1 + Math.round((d.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${year}-W${pad(week)}`;
}

/** The label of the period containing `ms` (local time). */
export function periodLabel(rotate: LogRotate, ms: number): string {
  const d = new Date(ms);
  const ymd = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  switch (rotate) {
    case "year":
      return String(d.getFullYear());
    case "month":
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
    case "week":
      return isoWeek(d);
    case "day":
      return ymd;
    case "hour":
      return `${ymd}T${pad(d.getHours())}`;
    default:
      return `${ymd.replaceAll("-", "")}T${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  }
}

function splitPath(path: string): { dir: string; stem: string; ext: string } {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const file = path.slice(slash + 1);
  const dot = file.lastIndexOf(".");
  return dot <= 0 ? { dir, stem: file, ext: "" } : { dir, stem: file.slice(0, dot), ext: file.slice(dot) };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function defaultOnError(err: Error): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`file log sink: ${err.message}\n`));
  } catch {
    // nowhere left to report
  }
}

/**
 * Creates a file sink. The directory is created when missing.
 *
 * @example
 * ```ts ignore
 * import { createLogger } from "../../core/logger.ts";
 * import { createFileSink } from "./file.ts";
 * const file = createFileSink({ path: "./log/due.log", rotate: "day", compress: true });
 * const log = createLogger({ sinks: [file] });
 * log.info("node started", { id: "n1" });
 * await file.close();
 * ```
 */
export function createFileSink(options: FileSinkOptions = {}): FileSink {
  const {
    path = DEFAULT_LOG_FILE_PATH,
    format = "text",
    maxAgeMs = DEFAULT_LOG_FILE_MAX_AGE_MS,
    maxSizeBytes = DEFAULT_LOG_FILE_MAX_SIZE_BYTES,
    rotate = "none",
    compress = false,
    bufferBytes = DEFAULT_LOG_FILE_BUFFER_BYTES,
    flushIntervalMs = DEFAULT_LOG_FILE_FLUSH_INTERVAL_MS,
    now = Date.now,
    onError = defaultOnError,
  } = options;
  const what = "file log sink";
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot create ${what} as 'path' must be a non-empty string: current value is ${path}`,
    );
  }
  if (format !== "text" && format !== "json") {
    throw new TypeError(
      `Cannot create ${what} as 'format' must be text or json: current value is "${format}"`,
    );
  }
  if (!ROTATES.includes(rotate)) {
    throw new TypeError(
      `Cannot create ${what} as 'rotate' must be one of ${ROTATES.join("|")}: current value is "${rotate}"`,
    );
  }
  for (const [name, value] of Object.entries({ maxAgeMs, maxSizeBytes })) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Cannot create ${what} as '${name}' must be a number >= 0: current value is ${value}`,
      );
    }
  }
  for (const [name, value] of Object.entries({ bufferBytes, flushIntervalMs })) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(
        `Cannot create ${what} as '${name}' must be a number > 0: current value is ${value}`,
      );
    }
  }
  const toLine = format === "json" ? formatJson : formatText;
  const encoder = new TextEncoder();
  const { dir, stem, ext } = splitPath(path);
  Deno.mkdirSync(dir, { recursive: true });

  let file = Deno.openSync(path, { append: true, create: true });
  const info = file.statSync();
  let size = info.size;
  /** The period the active file belongs to: that of its last write when it already existed. */
  let period = periodLabel(rotate, size > 0 && info.mtime ? info.mtime.getTime() : now());
  let chunks: Uint8Array[] = [];
  let buffered = 0;
  let closed = false;
  const compressions = new Set<Promise<void>>();

  const report = (message: string, err: unknown) =>
    onError(new Error(`${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));

  /** The first free rotated name for `label`. */
  function rotatedName(label: string): string {
    for (let n = 0;; n++) {
      const name = `${dir}/${stem}.${label}${n === 0 ? "" : `.${n}`}${ext}`;
      if (!exists(name) && !exists(`${name}.gz`)) return name;
    }
  }

  function gzip(name: string): void {
    const job = (async () => {
      const src = await Deno.open(name, { read: true });
      const dst = await Deno.open(`${name}.gz`, { write: true, create: true, truncate: true });
      await src.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(dst.writable);
      await Deno.remove(name);
    })().catch((err) => report(`Cannot compress ${name}`, err)).finally(() => compressions.delete(job));
    compressions.add(job);
  }

  /** Removes rotated files older than maxAge. */
  function cleanup(): void {
    if (maxAgeMs === 0) return;
    const oldest = now() - maxAgeMs;
    try {
      for (const entry of Deno.readDirSync(dir)) {
        const name = entry.name;
        if (!entry.isFile || !name.startsWith(`${stem}.`) || `${dir}/${name}` === path) continue;
        if (!(name.endsWith(ext) || name.endsWith(`${ext}.gz`))) continue;
        const full = `${dir}/${name}`;
        const mtime = Deno.statSync(full).mtime?.getTime() ?? now();
        if (mtime < oldest) Deno.removeSync(full);
      }
    } catch (err) {
      report(`Cannot remove old log files in ${dir}`, err);
    }
  }

  function rotateFile(label: string): void {
    file.close();
    const name = rotatedName(label);
    try {
      Deno.renameSync(path, name);
      if (compress) gzip(name);
    } catch (err) {
      report(`Cannot rotate ${path}`, err);
    }
    file = Deno.openSync(path, { append: true, create: true });
    size = file.statSync().size;
    cleanup();
  }

  function writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    size += bytes.length;
  }

  function flush(): void {
    if (buffered === 0) return;
    const bytes = new Uint8Array(buffered);
    let off = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, off);
      off += chunk.length;
    }
    chunks = [];
    buffered = 0;
    try {
      if (rotate !== "none") {
        const current = periodLabel(rotate, now());
        if (current !== period) {
          if (size > 0) rotateFile(period);
          period = current;
        }
      }
      if (maxSizeBytes > 0 && size > 0 && size + bytes.length > maxSizeBytes) {
        rotateFile(rotate === "none" ? periodLabel("none", now()) : period);
      }
      writeAll(bytes);
    } catch (err) {
      report(`Cannot write ${path}`, err);
    }
  }

  const timer = setInterval(flush, flushIntervalMs);
  Deno.unrefTimer(timer);
  const onUnload = () => flush();
  globalThis.addEventListener("unload", onUnload);
  cleanup();

  function write(record: LogRecord): void {
    if (closed) return;
    const bytes = encoder.encode(toLine(record) + "\n");
    chunks.push(bytes);
    buffered += bytes.length;
    if (buffered >= bufferBytes) flush();
  }

  async function close(): Promise<void> {
    if (closed) return;
    flush();
    closed = true;
    clearInterval(timer);
    globalThis.removeEventListener("unload", onUnload);
    file.close();
    await Promise.all([...compressions]);
  }

  return { write, flush, close } satisfies FileSink;
}

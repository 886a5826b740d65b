/**
 * A log sink writing to Alibaba Cloud Simple Log Service (SLS, due's `log/aliyun`) over its HTTP API.
 *
 * The real service cannot be reached from the development machines: this sink is tested only against a local
 * recording HTTP receiver. The request follows SLS's public API reference (PutLogs, "Request signatures",
 * "Data encoding"), **format not verified against the real service**:
 *
 * - `POST https://<project>.<endpoint>/logstores/<logstore>/shards/lb` (an `endpoint` given with a scheme,
 *   e.g. `http://127.0.0.1:8080`, is used as the base URL as is, for proxies and tests);
 * - body: an uncompressed protobuf `LogGroup` { repeated Log Logs = 1; Topic = 3; Source = 4 }, each `Log`
 *   { uint32 Time = 1 (Unix seconds); repeated Content Contents = 2 { Key = 1; Value = 2 }; fixed32 Time_ns = 4 }
 *   with contents `level`, `msg` and one pair per attribute (non-strings as JSON);
 * - headers `Content-Type: application/x-protobuf`, `Content-MD5` (upper-case hex MD5 of the body), `Date`
 *   (RFC 1123 GMT), `x-log-apiversion: 0.6.0`, `x-log-bodyrawsize`, `x-log-signaturemethod: hmac-sha1` and
 *   `Authorization: LOG <accessKeyId>:<signature>`, where signature = base64(HMAC-SHA1(accessKeySecret,
 *   "POST\n" + Content-MD5 + "\n" + Content-Type + "\n" + Date + "\n" + the x-log-/x-acs- headers as sorted
 *   lower-case "name:value\n" lines + the resource path)).
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import type { LogRecord } from "../../core/logger.ts";
import { ProtoWriter } from "./_protobuf.ts";
import {
  type BatchOptions,
  checkRequiredStrings,
  type CloudLogSink,
  createCloudLogSink,
  type PreparedRequest,
  recordFields,
} from "./_http_batcher.ts";

export {
  DEFAULT_LOG_BATCH_SIZE,
  DEFAULT_LOG_FLUSH_INTERVAL_MS,
  DEFAULT_LOG_MAX_QUEUE,
  DEFAULT_LOG_MAX_RETRIES,
  DEFAULT_LOG_RETRY_DELAY_MS,
  DEFAULT_LOG_TIMEOUT_MS,
} from "./_http_batcher.ts";
export type { BatchOptions, CloudLogSink, SinkStats } from "./_http_batcher.ts";

/** Options of {@linkcode createAliyunSink}: due's `log.aliyun` keys plus queue settings. */
export interface AliyunSinkOptions extends BatchOptions {
  /** Region endpoint (`cn-hangzhou.log.aliyuncs.com`), or a base URL with a scheme. */
  endpoint: string;
  /** AccessKey id. */
  accessKeyId: string;
  /** AccessKey secret. */
  accessKeySecret: string;
  /** SLS project. */
  project: string;
  /** Logstore. */
  logstore: string;
  /** Log topic. @default "" */
  topic?: string;
  /** Log source (usually the host). @default "" */
  source?: string;
}

/** Encodes records as an SLS `LogGroup`. */
export function encodeSlsLogGroup(records: LogRecord[], topic: string, source: string): Uint8Array {
  const w = new ProtoWriter();
  for (const record of records) {
    w.message(1, (log) => {
      log.uint(1, Math.floor(record.time / 1000));
      for (const [key, value] of recordFields(record)) {
        log.message(2, (c) => c.string(1, key).string(2, value));
      }
      log.fixed32(4, (record.time % 1000) * 1_000_000);
    });
  }
  if (topic !== "") w.string(3, topic);
  if (source !== "") w.string(4, source);
  return w.finish();
}

/** The `Authorization` signature of an SLS request (base64 HMAC-SHA1). */
export function signSlsRequest(
  secret: string,
  method: string,
  headers: Record<string, string>,
  resource: string,
): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonical = Object.keys(lower)
    .filter((k) => k.startsWith("x-log-") || k.startsWith("x-acs-"))
    .sort()
    .map((k) => `${k}:${lower[k]}\n`)
    .join("");
  const text = `${method}\n${lower["content-md5"] ?? ""}\n${lower["content-type"] ?? ""}\n${
    lower["date"]
  }\n${canonical}${resource}`;
  return createHmac("sha1", secret).update(text).digest("base64");
}

/**
 * Creates an SLS log sink.
 *
 * @example
 * ```ts ignore
 * import { createLogger } from "../../core/logger.ts";
 * import { createAliyunSink } from "./aliyun.ts";
 * const sls = createAliyunSink({
 *   endpoint: "cn-hangzhou.log.aliyuncs.com", accessKeyId: "…", accessKeySecret: "…",
 *   project: "game", logstore: "server",
 * });
 * const log = createLogger({ sinks: [sls] });
 * log.info("gate started", { addr: ":3553" });
 * await sls.close();
 * ```
 */
export function createAliyunSink(options: AliyunSinkOptions): CloudLogSink {
  const { endpoint, accessKeyId, accessKeySecret, project, logstore, topic = "", source = "" } = options;
  const what = "aliyun log sink";
  checkRequiredStrings(what, { endpoint, accessKeyId, accessKeySecret, project, logstore });
  const resource = `/logstores/${encodeURIComponent(logstore)}/shards/lb`;
  const base = endpoint.includes("://") ? endpoint.replace(/\/+$/, "") : `https://${project}.${endpoint}`;

  function prepare(records: LogRecord[]): PreparedRequest {
    const body = encodeSlsLogGroup(records, topic, source);
    const headers: Record<string, string> = {
      "Content-Type": "application/x-protobuf",
      "Content-MD5": createHash("md5").update(body).digest("hex").toUpperCase(),
      "Date": new Date().toUTCString(),
      "x-log-apiversion": "0.6.0",
      "x-log-bodyrawsize": String(body.length),
      "x-log-signaturemethod": "hmac-sha1",
    };
    headers["Authorization"] = `LOG ${accessKeyId}:${
      signSlsRequest(accessKeySecret, "POST", headers, resource)
    }`;
    return { url: base + resource, headers, body };
  }

  return createCloudLogSink(what, options, prepare);
}

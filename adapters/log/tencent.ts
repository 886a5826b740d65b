/**
 * A log sink writing to Tencent Cloud Log Service (CLS, due's `log/tencent`) over its HTTP API.
 *
 * The real service cannot be reached from the development machines: this sink is tested only against a local
 * recording HTTP receiver. The request follows CLS's public API documentation ("上传结构化日志" and "请求签名"),
 * **format not verified against the real service**:
 *
 * - `POST https://<endpoint>/structuredlog?topic_id=<topicId>` (an `endpoint` with a scheme is used as the
 *   base URL as is, for proxies and tests), also sending the topic in the `x-cls-topicid` header;
 * - body: an uncompressed protobuf `LogGroupList` { repeated LogGroup logGroupList = 1 }, one `LogGroup`
 *   { repeated Log logs = 1; source = 4 }, each `Log` { int64 time = 1 (Unix milliseconds); repeated Content
 *   contents = 2 { key = 1; value = 2 } } with contents `level`, `msg` and one pair per attribute;
 * - `Authorization: q-sign-algorithm=sha1&q-ak=<id>&q-sign-time=<t0>;<t1>&q-key-time=<t0>;<t1>&q-header-list=
 *   <signed headers>&q-url-param-list=<signed params>&q-signature=<sig>` with SignKey = hex(HMAC-SHA1(secret,
 *   KeyTime)), HttpRequestInfo = "post\n/structuredlog\n<params>\n<headers>\n" (sorted lower-case
 *   `name=urlencoded value` joined by '&'), StringToSign = "sha1\n<KeyTime>\n<hex SHA1(HttpRequestInfo)>\n",
 *   sig = hex(HMAC-SHA1(SignKey, StringToSign)); signatures are valid for `signatureTtlMs`.
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

export type { CloudLogSink } from "./_http_batcher.ts";

/** Default validity of a request signature. */
export const DEFAULT_CLS_SIGNATURE_TTL_MS = 300_000;

/** Options of {@linkcode createTencentSink}: due's `log.tencent` keys plus queue settings. */
export interface TencentSinkOptions extends BatchOptions {
  /** Region endpoint (`ap-guangzhou.cls.tencentcs.com`), or a base URL with a scheme. */
  endpoint: string;
  /** SecretId. */
  accessKeyId: string;
  /** SecretKey. */
  accessKeySecret: string;
  /** Log topic id. */
  topicId: string;
  /** Log source (usually the host IP). @default "" */
  source?: string;
  /** Validity of a request signature, in milliseconds. @default 300000 */
  signatureTtlMs?: number;
}

/** Encodes records as a CLS `LogGroupList` with one `LogGroup`. */
export function encodeClsLogGroupList(records: LogRecord[], source: string): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (group) => {
    for (const record of records) {
      group.message(1, (log) => {
        log.uint(1, record.time);
        for (const [key, value] of recordFields(record)) {
          log.message(2, (c) => c.string(1, key).string(2, value));
        }
      });
    }
    if (source !== "") group.string(4, source);
  });
  return w.finish();
}

const hex = (alg: string, data: string) => createHash(alg).update(data).digest("hex");
const hmacHex = (key: string, data: string) => createHmac("sha1", key).update(data).digest("hex");

function canonical(pairs: Record<string, string>): { list: string; text: string } {
  const lower = Object.entries(pairs).map(([k, v]) => [k.toLowerCase(), v] as const).sort(([a], [b]) =>
    a < b ? -1 : 1
  );
  return {
    list: lower.map(([k]) => k).join(";"),
    text: lower.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"),
  };
}

/** The `Authorization` value of a CLS request. */
export function signClsRequest(
  secretId: string,
  secretKey: string,
  method: string,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string>,
  startS: number,
  endS: number,
): string {
  const keyTime = `${startS};${endS}`;
  const p = canonical(params);
  const h = canonical(headers);
  const requestInfo = `${method.toLowerCase()}\n${path}\n${p.text}\n${h.text}\n`;
  const stringToSign = `sha1\n${keyTime}\n${hex("sha1", requestInfo)}\n`;
  const signature = hmacHex(hmacHex(secretKey, keyTime), stringToSign);
  return `q-sign-algorithm=sha1&q-ak=${secretId}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=${h.list}&q-url-param-list=${p.list}&q-signature=${signature}`;
}

/**
 * Creates a CLS log sink.
 *
 * @example
 * ```ts ignore
 * import { createLogger } from "../../core/logger.ts";
 * import { createTencentSink } from "./tencent.ts";
 * const cls = createTencentSink({
 *   endpoint: "ap-guangzhou.cls.tencentcs.com", accessKeyId: "…", accessKeySecret: "…", topicId: "…",
 * });
 * const log = createLogger({ sinks: [cls] });
 * log.info("node started");
 * await cls.close();
 * ```
 */
export function createTencentSink(options: TencentSinkOptions): CloudLogSink {
  const { endpoint, accessKeyId, accessKeySecret, topicId, source = "" } = options;
  const { signatureTtlMs = DEFAULT_CLS_SIGNATURE_TTL_MS } = options;
  const what = "tencent log sink";
  checkRequiredStrings(what, { endpoint, accessKeyId, accessKeySecret, topicId });
  if (!(signatureTtlMs >= 1_000)) {
    throw new RangeError(
      `Cannot create ${what} as 'signatureTtlMs' must be >= 1000: current value is ${signatureTtlMs}`,
    );
  }
  const path = "/structuredlog";
  const base = endpoint.includes("://") ? endpoint.replace(/\/+$/, "") : `https://${endpoint}`;
  const host = new URL(base).host;

  function prepare(records: LogRecord[]): PreparedRequest {
    const body = encodeClsLogGroupList(records, source);
    const params = { topic_id: topicId };
    const signed = { "Content-Type": "application/x-protobuf", "Host": host, "x-cls-topicid": topicId };
    const now = Math.floor(Date.now() / 1000);
    const authorization = signClsRequest(
      accessKeyId,
      accessKeySecret,
      "POST",
      path,
      params,
      signed,
      now,
      now + Math.ceil(signatureTtlMs / 1000),
    );
    return {
      url: `${base}${path}?topic_id=${encodeURIComponent(topicId)}`,
      headers: {
        "Content-Type": signed["Content-Type"],
        "x-cls-topicid": topicId,
        "Authorization": authorization,
      },
      body,
    };
  }

  return createCloudLogSink(what, options, prepare);
}

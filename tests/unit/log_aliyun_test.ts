import { createHash, createHmac } from "node:crypto";
import protobuf from "protobufjs";
import { createAliyunSink } from "../../adapters/log/aliyun.ts";
import type { LogRecord } from "../../core/logger.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { recordingHttpReceiver } from "../_helpers/recording_http_receiver.ts";

/** SLS's LogGroup schema from its public "Data encoding" page, decoded with protobufjs (independent of ours). */
const LogGroup = protobuf.parse(
  `
syntax = "proto2";
message Log {
  required uint32 Time = 1;
  message Content { required string Key = 1; required string Value = 2; }
  repeated Content Contents = 2;
  optional fixed32 Time_ns = 4;
}
message LogTag { required string Key = 1; required string Value = 2; }
message LogGroup {
  repeated Log Logs = 1;
  optional string Reserved = 2;
  optional string Topic = 3;
  optional string Source = 4;
  repeated LogTag LogTags = 6;
}`,
  { keepCase: true },
).root.lookupType("LogGroup");

interface DecodedGroup {
  Logs: { Time: number; Time_ns?: number; Contents: { Key: string; Value: string }[] }[];
  Topic?: string;
  Source?: string;
}

const record = (msg: string, attrs: Record<string, unknown> = {}): LogRecord => ({
  time: 1_764_000_000_123,
  level: "warn",
  msg,
  attrs,
});

const credentials = {
  accessKeyId: "test-id",
  accessKeySecret: "test-secret",
  project: "game",
  logstore: "server",
};

Deno.test("createAliyunSink() posts a signed protobuf LogGroup to the logstore", async () => {
  const receiver = recordingHttpReceiver();
  const sink = createAliyunSink({ endpoint: receiver.url, ...credentials, topic: "due", source: "10.0.0.1" });
  try {
    sink.write(record("slow request", { uid: 1001, route: "login", tags: ["a"] }));
    sink.write(record("second"));
    await sink.flush();
    assertEquals(receiver.requests.length, 1);
    const req = receiver.requests[0];
    assertEquals(req.method, "POST");
    assertEquals(req.path, "/logstores/server/shards/lb");
    assertEquals(req.headers.get("content-type"), "application/x-protobuf");
    assertEquals(req.headers.get("x-log-apiversion"), "0.6.0");
    assertEquals(req.headers.get("x-log-signaturemethod"), "hmac-sha1");
    assertEquals(req.headers.get("x-log-bodyrawsize"), String(req.body.length));
    assertEquals(
      req.headers.get("content-md5"),
      createHash("md5").update(req.body).digest("hex").toUpperCase(),
    );
    // The signature, recomputed from SLS's documented string-to-sign.
    const toSign = [
      "POST",
      req.headers.get("content-md5"),
      "application/x-protobuf",
      req.headers.get("date"),
      `x-log-apiversion:0.6.0\nx-log-bodyrawsize:${req.body.length}\nx-log-signaturemethod:hmac-sha1\n/logstores/server/shards/lb`,
    ].join("\n");
    const signature = createHmac("sha1", "test-secret").update(toSign).digest("base64");
    assertEquals(req.headers.get("authorization"), `LOG test-id:${signature}`);

    const group = LogGroup.toObject(LogGroup.decode(req.body)) as DecodedGroup;
    assertEquals(group.Topic, "due");
    assertEquals(group.Source, "10.0.0.1");
    assertEquals(group.Logs.length, 2);
    assertEquals(group.Logs[0].Time, 1_764_000_000);
    assertEquals(group.Logs[0].Time_ns, 123_000_000);
    assertEquals(group.Logs[0].Contents, [
      { Key: "level", Value: "warn" },
      { Key: "msg", Value: "slow request" },
      { Key: "uid", Value: "1001" },
      { Key: "route", Value: "login" },
      { Key: "tags", Value: '["a"]' },
    ]);
    assertEquals(sink.stats, { sent: 2, dropped: 0, failed: 0 });
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() sends a full batch at once, in order, without waiting for its interval", async () => {
  const receiver = recordingHttpReceiver();
  // An interval far beyond the test: only a full batch can make the sink post.
  const sink = createAliyunSink({
    endpoint: receiver.url,
    ...credentials,
    batchSize: 2,
    flushIntervalMs: 60_000,
  });
  try {
    for (let i = 0; i < 5; i++) sink.write(record(`m${i}`));
    await receiver.waitFor(3, 2_000);
    const counts = receiver.requests.map((r) =>
      (LogGroup.decode(r.body) as unknown as DecodedGroup).Logs.length
    );
    assertEquals(counts, [2, 2, 1]);
    const msgs = receiver.requests.flatMap((r) =>
      (LogGroup.decode(r.body) as unknown as DecodedGroup).Logs.map((l) => l.Contents[1].Value)
    );
    assertEquals(msgs, ["m0", "m1", "m2", "m3", "m4"]);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() sends a partial batch on its interval", async () => {
  const receiver = recordingHttpReceiver();
  const sink = createAliyunSink({ endpoint: receiver.url, ...credentials, flushIntervalMs: 50 });
  try {
    sink.write(record("alone"));
    // One record of a 256-record batch, no flush(): only the interval can send it.
    await receiver.waitFor(1, 2_000);
    const group = LogGroup.decode(receiver.requests[0].body) as unknown as DecodedGroup;
    assertEquals(group.Logs.map((l) => l.Contents[1].Value), ["alone"]);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() retries a batch after 5xx answers", async () => {
  const receiver = recordingHttpReceiver();
  receiver.statuses.push(500, 503);
  const sink = createAliyunSink({ endpoint: receiver.url, ...credentials, retryDelayMs: 10 });
  try {
    sink.write(record("retried"));
    await sink.flush();
    assertEquals(receiver.requests.length, 3);
    assertEquals(receiver.requests[0].body, receiver.requests[2].body);
    assertEquals(sink.stats, { sent: 1, dropped: 0, failed: 0 });
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() drops a batch rejected with 4xx at once and reports it", async () => {
  const receiver = recordingHttpReceiver();
  receiver.statuses.push(401);
  const errors: Error[] = [];
  const sink = createAliyunSink({ endpoint: receiver.url, ...credentials, onError: (e) => errors.push(e) });
  try {
    sink.write(record("refused"));
    await sink.flush();
    assertEquals(receiver.requests.length, 1);
    assertEquals(sink.stats, { sent: 0, dropped: 0, failed: 1 });
    assertEquals(errors.length, 1);
    assert(errors[0].message.includes("HTTP 401"), errors[0].message);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() gives up after maxRetries and keeps sending later batches", async () => {
  const receiver = recordingHttpReceiver();
  receiver.statuses.push(500, 500, 500);
  const errors: Error[] = [];
  const sink = createAliyunSink({
    endpoint: receiver.url,
    ...credentials,
    maxRetries: 2,
    retryDelayMs: 5,
    onError: (e) => errors.push(e),
  });
  try {
    sink.write(record("lost"));
    await sink.flush();
    sink.write(record("delivered"));
    await sink.flush();
    assertEquals(receiver.requests.length, 4);
    assertEquals(sink.stats, { sent: 1, dropped: 0, failed: 1 });
    assertEquals(errors.length, 1);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createAliyunSink() bounds its queue by dropping the oldest records", async () => {
  const receiver = recordingHttpReceiver();
  const sink = createAliyunSink({
    endpoint: receiver.url,
    ...credentials,
    maxQueue: 3,
    flushIntervalMs: 60_000,
  });
  try {
    for (let i = 0; i < 5; i++) sink.write(record(`m${i}`));
    assertEquals(sink.stats.dropped, 2);
    await sink.close();
    const group = LogGroup.decode(receiver.requests[0].body) as unknown as DecodedGroup;
    assertEquals(group.Logs.map((l) => l.Contents[1].Value), ["m2", "m3", "m4"]);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

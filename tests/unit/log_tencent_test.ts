import { createHash, createHmac } from "node:crypto";
import protobuf from "protobufjs";
import { createTencentSink } from "../../adapters/log/tencent.ts";
import type { LogRecord } from "../../core/logger.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { recordingHttpReceiver } from "../_helpers/recording_http_receiver.ts";

/** CLS's LogGroupList schema from its public "上传结构化日志" page, decoded with protobufjs. */
const LogGroupList = protobuf.parse(
  `
syntax = "proto2";
package cls;
message Log {
  message Content { required string key = 1; required string value = 2; }
  required int64 time = 1;
  repeated Content contents = 2;
}
message LogGroup {
  repeated Log logs = 1;
  optional string contextFlow = 2;
  optional string filename = 3;
  optional string source = 4;
}
message LogGroupList { repeated LogGroup logGroupList = 1; }`,
  { keepCase: true },
).root.lookupType("cls.LogGroupList");

interface Decoded {
  logGroupList: { logs: { time: number; contents: { key: string; value: string }[] }[]; source?: string }[];
}

const record = (msg: string): LogRecord => ({
  time: 1_764_000_000_123,
  level: "error",
  msg,
  attrs: { cid: 7 },
});

Deno.test("createTencentSink() posts a signed protobuf LogGroupList to structuredlog", async () => {
  const receiver = recordingHttpReceiver();
  const sink = createTencentSink({
    endpoint: receiver.url,
    accessKeyId: "AKIDtest",
    accessKeySecret: "secret",
    topicId: "topic-123",
    source: "10.0.0.2",
  });
  try {
    sink.write(record("disconnected"));
    await sink.flush();
    assertEquals(receiver.requests.length, 1);
    const req = receiver.requests[0];
    assertEquals(req.path, "/structuredlog");
    assertEquals(req.query.get("topic_id"), "topic-123");
    assertEquals(req.headers.get("x-cls-topicid"), "topic-123");
    assertEquals(req.headers.get("content-type"), "application/x-protobuf");

    const auth = Object.fromEntries(req.headers.get("authorization")!.split("&").map((kv) => kv.split("=")));
    assertEquals(auth["q-sign-algorithm"], "sha1");
    assertEquals(auth["q-ak"], "AKIDtest");
    assertEquals(auth["q-header-list"], "content-type;host;x-cls-topicid");
    assertEquals(auth["q-url-param-list"], "topic_id");
    const [start, end] = auth["q-key-time"].split(";").map(Number);
    assert(end - start === 300 && Math.abs(start - Date.now() / 1000) < 10, auth["q-key-time"]);
    // Recompute the signature from CLS's documented steps.
    const host = new URL(receiver.url).host;
    const info = `post\n/structuredlog\ntopic_id=topic-123\ncontent-type=application%2Fx-protobuf&host=${
      encodeURIComponent(host)
    }&x-cls-topicid=topic-123\n`;
    const signKey = createHmac("sha1", "secret").update(auth["q-key-time"]).digest("hex");
    const toSign = `sha1\n${auth["q-key-time"]}\n${createHash("sha1").update(info).digest("hex")}\n`;
    assertEquals(auth["q-signature"], createHmac("sha1", signKey).update(toSign).digest("hex"));

    const decoded = LogGroupList.toObject(LogGroupList.decode(req.body), { longs: Number }) as Decoded;
    assertEquals(decoded.logGroupList.length, 1);
    assertEquals(decoded.logGroupList[0].source, "10.0.0.2");
    assertEquals(decoded.logGroupList[0].logs[0].time, 1_764_000_000_123);
    assertEquals(decoded.logGroupList[0].logs[0].contents, [
      { key: "level", value: "error" },
      { key: "msg", value: "disconnected" },
      { key: "cid", value: "7" },
    ]);
    assertEquals(sink.stats, { sent: 1, dropped: 0, failed: 0 });
  } finally {
    await sink.close();
    await receiver.close();
  }
});

Deno.test("createTencentSink() close() sends what is queued", async () => {
  const receiver = recordingHttpReceiver();
  const sink = createTencentSink({
    endpoint: receiver.url,
    accessKeyId: "id",
    accessKeySecret: "secret",
    topicId: "t",
    flushIntervalMs: 60_000,
  });
  try {
    sink.write(record("a"));
    sink.write(record("b"));
    // Give a sink that posted at once the time to reach the receiver: nothing may arrive before close().
    await new Promise((r) => setTimeout(r, 100));
    assertEquals(receiver.requests.length, 0);
    await sink.close();
    assertEquals(receiver.requests.length, 1);
    const decoded = LogGroupList.decode(receiver.requests[0].body) as unknown as Decoded;
    assertEquals(decoded.logGroupList[0].logs.length, 2);
  } finally {
    await sink.close();
    await receiver.close();
  }
});

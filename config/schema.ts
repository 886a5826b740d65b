/**
 * The schema of due's startup config (`due.toml`): every section, key, default and one-line doc. Types
 * ({@linkcode DueConfig}), validation, env/flag names and the committed `due.toml` all come from here.
 *
 * This file is long because it is one table: a key per line, grouped by section in due's order.
 *
 * Keys and defaults follow due v2.5.8 (`etc.toml`) with these differences: `shutdownMaxWaitTime` is 30s (due
 * waits for ever), codecs default to json, the ws and kcp servers listen on :3554 and :3555 so the three can run
 * side by side, and `cluster.*` gain keys due lacks (`networks`, `duplicateLogin`, `frameLimit`,
 * `requestQueueSize`, `encryptor`, `replyUnknownRoute`).
 *
 * @module
 */

import * as s from "./schema_dsl.ts";

const HEARTBEAT_MECHANISMS = ["resp", "tick"] as const;
const MODES = ["read-only", "write-only", "read-write"] as const;
const HASHES = ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"] as const;
const CODECS = ["json", "msgpack", "protobuf"] as const;

/** The connection keys of a Redis backend; `user` ends the doc of `maxRetries` ("by the cache"). */
function redisOnly(user?: string) {
  return {
    addrs: s.list(s.string(), ["127.0.0.1:6379"], "Redis addresses, host:port (several = cluster)"),
    db: s.int(0, "Redis database number"),
    username: s.string("", "Redis ACL username"),
    password: s.string("", "Redis password"),
    maxRetries: s.int(
      3,
      user === undefined ? "Retries of a failed Redis command" : `Retries of a failed Redis command ${user}`,
    ),
  };
}

function redisFields(prefix: string, prefixDoc: string) {
  return { ...redisOnly(), prefix: s.string(prefix, prefixDoc) };
}

function clusterCommon(name: string) {
  return {
    id: s.string("", `Instance id, unique in the cluster; empty = generate one at start`),
    name: s.string(name, "Instance name (service name in the registry)"),
    addr: s.string(":0", "Cluster link listen address, host:port; port 0 = pick a free port"),
    expose: s.bool(false, "Advertise the public IP instead of the first private one"),
    connNum: s.int(5, "Link connections opened to each peer", { min: 1, max: 64 }),
    callTimeout: s.duration("3s", "Timeout of a call to a peer"),
    dialTimeout: s.duration("3s", "Timeout of dialling a peer"),
    dialRetryTimes: s.int(3, "Dial attempts before a peer counts as down"),
    writeTimeout: s.duration("0s", "How long a link write may wait for room in a full queue; 0 = no wait"),
    writeQueueSize: s.int(2048, "Frames queued per link connection", { min: 1 }),
    faultRecoveryTime: s.duration("5s", "How long sends to a failed peer fail fast (release mode)"),
    metadata: s.record({}, "Metadata published in the registry, string → string"),
  };
}

function kcpTunables() {
  return {
    mtu: s.int(1400, "KCP maximum transmission unit", { min: 50, max: 1500 }),
    noDelay: s.list(
      s.int(0, "", { min: 0, max: 5_000 }),
      [1, 10, 2, 1],
      "KCP [nodelay, interval ms, resend, nc]",
      {
        length: 4,
      },
    ),
    ackNoDelay: s.bool(true, "Send ACKs at once instead of on the next flush"),
    windowSize: s.list(
      s.int(1, "", { min: 1, max: 65_535 }),
      [256, 256],
      "KCP [send, receive] window in packets",
      {
        length: 2,
      },
    ),
    readBuffer: s.size("4M", "UDP socket read buffer"),
    writeBuffer: s.size("4M", "UDP socket write buffer"),
  };
}

function maxConnNum() {
  return s.int(5000, "Connections beyond this are refused", { min: 1 });
}

function heartbeat() {
  return {
    heartbeatInterval: s.duration("10s", "Liveness tick; silent for 2 × interval = closed; 0 = off"),
    heartbeatMechanism: s.enum(
      HEARTBEAT_MECHANISMS,
      "resp",
      "resp = answer client heartbeats, tick = send every interval",
    ),
    authorizeTimeout: s.duration("0s", "Close a connection not bound to a uid within this time; 0 = off"),
  };
}

const KEY_DOC = "key: PEM text or a file path";

function hash() {
  return s.enum(HASHES, "SHA256", "Hash algorithm");
}

function nacosFields() {
  return {
    urls: s.list(s.string(), ["http://127.0.0.1:8848/nacos"], "Nacos server URLs"),
    clusterName: s.string("DEFAULT", "Nacos cluster name"),
    groupName: s.string("DEFAULT_GROUP", "Nacos group name"),
    timeout: s.duration("3s", "Timeout of a Nacos request"),
    namespaceId: s.string("", "Nacos namespace id"),
    endpoint: s.string("", "Nacos address server endpoint"),
    regionId: s.string("", "Nacos KMS region id"),
    accessKey: s.string("", "Nacos access key"),
    secretKey: s.string("", "Nacos secret key"),
    openKMS: s.bool(false, "Use Nacos KMS"),
    cacheDir: s.string("./run/nacos/naming/cache", "Nacos local cache directory"),
    username: s.string("", "Nacos username"),
    password: s.string("", "Nacos password"),
    logDir: s.string("./run/nacos/naming/log", "Nacos client log directory"),
    logLevel: s.enum(["debug", "info", "warn", "error"], "info", "Nacos client log level"),
  };
}

/** The schema of the startup config. */
export const dueSchema = s.object({
  mode: s.enum(
    ["debug", "test", "release"],
    "debug",
    "Run mode; debug logs each delivery, release fails fast",
  ),
  pid: s.string("", "Path of a pid file written at start; empty = none"),
  shutdownMaxWaitTime: s.duration("30s", "Longest wait for in-flight work on shutdown (due: 0 = for ever)"),

  cluster: s.object({
    gate: s.object({
      ...clusterCommon("gate"),
      dispatch: s.enum(
        ["random", "rr", "wrr"],
        "random",
        "Node choice for stateless routes: random, round-robin, weighted",
      ),
      networks: s.list(s.enum(["tcp", "ws", "kcp"]), ["tcp", "ws"], "Client servers started by the gate", {
        unique: true,
      }),
      replyUnknownRoute: s.bool(
        false,
        "Answer a request the gate cannot deliver (unknown route, no node, no binding) with an empty packet",
      ),
      duplicateLogin: s.enum(
        ["kick", "unbind"],
        "kick",
        "What a second login of a uid does to the older connection",
      ),
      frameLimit: s.size("4M", "Largest cluster link frame accepted"),
    }, "The gate: holds client connections and forwards packets to nodes"),
    node: s.object({
      ...clusterCommon("node"),
      replyUnknownRoute: s.bool(false, "Answer a request for an unknown route instead of dropping it"),
      frameLimit: s.size("4M", "Largest cluster link frame accepted"),
      codec: s.enum(CODECS, "json", "Payload codec of client messages"),
      weight: s.int(1, "Weight for the wrr dispatch strategy"),
      requestQueueSize: s.int(256, "Requests pending per client connection before new ones are rejected", {
        min: 1,
      }),
      encryptor: s.enum(["", "rsa", "ecc"], "", "Payload encryption; empty = none"),
    }, "The node: runs route handlers"),
    mesh: s.object({
      id: s.string("", "Instance id, unique in the cluster; empty = generate one at start"),
      name: s.string("mesh", "Instance name (service name in the registry)"),
      addr: s.string(":0", "RPC listen address, host:port; port 0 = pick a free port"),
      expose: s.bool(false, "Advertise the public IP instead of the first private one"),
      codec: s.enum(CODECS, "json", "Codec of RPC arguments and results"),
      connNum: s.int(5, "Connections opened to each peer", { min: 1, max: 64 }),
      callTimeout: s.duration("3s", "Timeout of a call to a peer"),
      dialTimeout: s.duration("3s", "Timeout of dialling a peer"),
      dialRetryTimes: s.int(3, "Dial attempts before a peer counts as down"),
      writeTimeout: s.duration("0s", "How long a write may wait for room in a full queue; 0 = no wait"),
      writeQueueSize: s.int(2048, "Frames queued per connection", { min: 1 }),
      faultRecoveryTime: s.duration("5s", "How long sends to a failed peer fail fast (release mode)"),
      metadata: s.record({}, "Metadata published in the registry, string → string"),
    }, "The mesh: hosts RPC services"),
    client: s.object({
      id: s.string("", "Client id; empty = generate one"),
      name: s.string("client", "Client name"),
      codec: s.enum(CODECS, "json", "Payload codec of messages"),
    }, "The client SDK"),
  }, "Cluster roles"),

  packet: s.object({
    byteOrder: s.enum(["big", "little"], "big", "Byte order of size, route, seq and heartbeat time"),
    routeBytes: s.enum([1, 2, 4], 2, "Bytes of the route field"),
    seqBytes: s.enum([0, 1, 2, 4], 2, "Bytes of the seq field; 0 = no seq"),
    bufferBytes: s.size(5000, "Largest message (route + seq + payload) packed"),
    heartbeatTime: s.bool(false, "Put the server time in heartbeats"),
  }, "Client packet format; must match on client, gate and node"),

  network: s.object({
    tcp: s.object({
      server: s.object({
        addr: s.string(":3553", "Listen address, host:port"),
        keyFile: s.string("", "TLS private key file; empty = plain TCP"),
        certFile: s.string("", "TLS certificate file"),
        maxConnNum: maxConnNum(),
        writeTimeout: s.duration("0s", "How long a write may wait for room in a full queue; 0 = no wait"),
        writeQueueSize: s.int(512, "Packets queued per connection", { min: 1 }),
        ...heartbeat(),
      }, "TCP server of the gate"),
      client: s.object({
        addr: s.string("127.0.0.1:3553", "Server address, host:port"),
        caFile: s.string("", "CA file for TLS; empty = plain TCP"),
        serverName: s.string("", "TLS server name"),
        dialTimeout: s.duration("3s", "Timeout of dialling"),
        writeTimeout: s.duration("0s", "How long a write may wait for room in a full queue; 0 = no wait"),
        writeQueueSize: s.int(1024, "Packets queued", { min: 1 }),
        heartbeatInterval: s.duration("10s", "Heartbeat interval; 0 = none"),
      }, "TCP client"),
    }, "TCP"),
    ws: s.object({
      server: s.object({
        addr: s.string(":3554", "Listen address, host:port"),
        path: s.string("/", "Upgrade path"),
        keyFile: s.string("", "TLS private key file; empty = plain ws"),
        certFile: s.string("", "TLS certificate file"),
        origins: s.list(s.string(), ["*"], 'Allowed Origin headers; "*" = any, [] = none'),
        maxConnNum: maxConnNum(),
        writeTimeout: s.duration("0s", "How long a write may wait for room in a full queue; 0 = no wait"),
        writeQueueSize: s.int(1024, "Packets queued per connection", { min: 1 }),
        ...heartbeat(),
      }, "WebSocket server of the gate"),
      client: s.object({
        url: s.string("ws://127.0.0.1:3554", "Server URL"),
        dialTimeout: s.duration("3s", "Timeout of dialling"),
        writeTimeout: s.duration("0s", "How long a write may wait for room in a full queue; 0 = no wait"),
        writeQueueSize: s.int(1024, "Packets queued", { min: 1 }),
        heartbeatInterval: s.duration("10s", "Heartbeat interval; 0 = none"),
      }, "WebSocket client"),
    }, "WebSocket"),
    kcp: s.object({
      server: s.object({
        addr: s.string(":3555", "Listen address, host:port"),
        maxConnNum: maxConnNum(),
        ...heartbeat(),
        ...kcpTunables(),
      }, "KCP server of the gate"),
      client: s.object({
        addr: s.string("127.0.0.1:3555", "Server address, host:port"),
        timeout: s.duration("5s", "Timeout of dialling"),
        heartbeatInterval: s.duration("10s", "Heartbeat interval; 0 = none"),
        ...kcpTunables(),
      }, "KCP client"),
    }, "KCP over UDP"),
  }, "Client networks"),

  registry: s.object({
    driver: s.enum(["memory", "etcd", "consul", "nacos"], "memory", "Service registry backend"),
    etcd: s.object({
      addrs: s.list(s.string(), ["127.0.0.1:2379"], "etcd addresses, host:port"),
      dialTimeout: s.duration("5s", "Timeout of connecting to etcd"),
      namespace: s.string("services", "Key prefix of registered instances"),
      username: s.string("", "etcd username"),
      password: s.string("", "etcd password"),
      timeout: s.duration("3s", "Timeout of an etcd request"),
      retryTimes: s.int(3, "Attempts to re-register after the lease is lost"),
      retryInterval: s.duration("10s", "Wait between re-register attempts"),
    }, "etcd registry"),
    consul: s.object({
      addr: s.string("127.0.0.1:8500", "Consul agent address, host:port or http(s) URL"),
      token: s.string("", "ACL token sent as X-Consul-Token; empty = none"),
      namespace: s.string("", "Prefix of the service names (<namespace>-node); empty = due's plain names"),
      healthCheck: s.bool(true, "Register an HTTP/TCP health check"),
      healthCheckInterval: s.int(10, "Health check interval in seconds (as in due)", { min: 1 }),
      healthCheckTimeout: s.int(5, "Health check timeout in seconds (as in due)", { min: 1 }),
      heartbeatCheck: s.bool(true, "Register a TTL heartbeat check"),
      heartbeatCheckInterval: s.int(10, "Heartbeat interval in seconds (as in due)", { min: 1 }),
      deregisterCriticalServiceAfter: s.int(
        30,
        "Seconds a critical instance stays before removal (as in due)",
      ),
    }, "Consul registry"),
    nacos: s.object({
      ...nacosFields(),
      maxMetadataLength: s.int(
        1024,
        "Characters of instance metadata (keys + values) the server keeps, Nacos >= 2.3's limit; 0 = no check (ours)",
        { min: 0 },
      ),
    }, "Nacos registry"),
  }, "Service discovery"),

  locate: s.object({
    driver: s.enum(
      ["memory", "redis"],
      "memory",
      "Locator backend: where each uid's gate and nodes are recorded",
    ),
    redis: s.object(redisFields("due:locate", "Prefix of every locator key"), "Redis locator"),
  }, "User locator"),

  transport: s.object({
    driver: s.enum(["drpc", "nats"], "drpc", "Mesh RPC transport: drpc = direct TCP links"),
    nats: s.object({
      url: s.string("nats://127.0.0.1:4222", "NATS server URL"),
      timeout: s.duration("3s", "Timeout of a NATS request"),
    }, "NATS transport"),
  }, "Mesh RPC transport"),

  eventbus: s.object({
    driver: s.enum(["memory", "redis", "nats", "rabbitmq", "kafka"], "memory", "Event bus backend"),
    redis: s.object(
      redisFields("due:eventbus", "Prefix of every event channel"),
      "Redis event bus (pub/sub)",
    ),
    nats: s.object({
      url: s.string("nats://127.0.0.1:4222", "NATS server URL"),
      timeout: s.duration("2s", "Timeout of connecting and flushing"),
      prefix: s.string("due:eventbus", "Prefix of every subject"),
    }, "NATS event bus"),
    rabbitmq: s.object({
      url: s.string("amqp://guest:guest@127.0.0.1:5672", "AMQP URL"),
      exchange: s.string("due.eventbus", "Topic exchange events are published to"),
      prefix: s.string("due:eventbus", "Prefix of every routing key"),
    }, "RabbitMQ event bus"),
    kafka: s.object({
      addrs: s.list(s.string(), ["127.0.0.1:9092"], "Kafka broker addresses, host:port"),
      prefix: s.string("due.eventbus", "Prefix of every topic (letters, digits, . _ - only)"),
      clientId: s.string("due", "Kafka client id"),
    }, "Kafka event bus"),
  }, "Event bus"),

  cache: s.object({
    driver: s.enum(["memory", "redis", "memcache"], "memory", "Cache backend"),
    prefix: s.string("due:cache", "Prefix of every cache key"),
    nilValue: s.string("cache@nil", "Value stored for a missing entry (prevents cache penetration)"),
    nilExpiration: s.duration("10s", "Lifetime of a nil entry"),
    minExpiration: s.duration("1h", "Smallest random lifetime of an entry without one"),
    maxExpiration: s.duration("24h", "Largest random lifetime of an entry without one"),
    redis: s.object(redisOnly("by the cache"), "Redis cache"),
    memcache: s.object({
      addrs: s.list(s.string(), ["127.0.0.1:11211"], "memcached addresses, host:port"),
    }, "memcached cache"),
  }, "Cache"),

  lock: s.object({
    driver: s.enum(["memory", "redis", "memcache"], "memory", "Distributed lock backend"),
    prefix: s.string("due:lock", "Prefix of every lock key"),
    expiration: s.duration("3s", "Lock lifetime, renewed while held"),
    acquireInterval: s.duration("20ms", "Wait between attempts to acquire"),
    acquireMaxRetries: s.int(0, "Attempts to acquire; 0 = until the caller's deadline"),
    redis: s.object(redisOnly("by the lock"), "Redis lock"),
    memcache: s.object({
      addrs: s.list(s.string(), ["127.0.0.1:11211"], "memcached addresses, host:port"),
    }, "memcached lock"),
  }, "Distributed lock"),

  crypto: s.object({
    rsa: s.object({
      encryptor: s.object({
        hash: hash(),
        padding: s.enum(["NORMAL", "OAEP"], "NORMAL", "Padding: NORMAL = PKCS#1 v1.5, OAEP"),
        label: s.string("", "OAEP label"),
        blockSize: s.int(0, "Plaintext block size in bytes; 0 = the key's maximum"),
        publicKey: s.string("", `Public ${KEY_DOC}`),
      }, "RSA encryption"),
      decryptor: s.object({
        hash: hash(),
        padding: s.enum(["NORMAL", "OAEP"], "NORMAL", "Padding: NORMAL = PKCS#1 v1.5, OAEP"),
        label: s.string("", "OAEP label"),
        privateKey: s.string("", `Private ${KEY_DOC}`),
      }, "RSA decryption"),
      signer: s.object({
        hash: hash(),
        padding: s.enum(["PKCS", "PSS"], "PKCS", "Signature padding"),
        privateKey: s.string("", `Private ${KEY_DOC}`),
      }, "RSA signing"),
      verifier: s.object({
        hash: hash(),
        padding: s.enum(["PKCS", "PSS"], "PKCS", "Signature padding"),
        publicKey: s.string("", `Public ${KEY_DOC}`),
      }, "RSA verification"),
    }, "RSA payload encryption and signatures"),
    ecc: s.object({
      encryptor: s.object({
        s1: s.string("", "ECIES shared info 1"),
        s2: s.string("", "ECIES shared info 2"),
        publicKey: s.string("", `Public ${KEY_DOC}`),
      }, "ECIES encryption"),
      decryptor: s.object({
        s1: s.string("", "ECIES shared info 1"),
        s2: s.string("", "ECIES shared info 2"),
        privateKey: s.string("", `Private ${KEY_DOC}`),
      }, "ECIES decryption"),
      signer: s.object({
        hash: hash(),
        delimiter: s.string(" ", "Separator between r and s in the signature"),
        privateKey: s.string("", `Private ${KEY_DOC}`),
      }, "ECDSA signing"),
      verifier: s.object({
        hash: hash(),
        delimiter: s.string(" ", "Separator between r and s in the signature"),
        publicKey: s.string("", `Public ${KEY_DOC}`),
      }, "ECDSA verification"),
    }, "Elliptic-curve payload encryption and signatures"),
  }, "Payload cryptography"),

  codec: s.object({
    protobuf: s.object({
      files: s.list(s.string(), [], "Message definitions: .proto files or protobufjs .json descriptors"),
    }, "protobuf codec"),
  }, "Codecs"),

  log: s.object({
    level: s.enum(["debug", "info", "warn", "error", "off"], "info", "Lowest level written"),
    terminals: s.list(s.enum(["console", "file", "aliyun", "tencent"]), ["console"], "Where logs go", {
      unique: true,
    }),
    console: s.object({
      format: s.enum(["text", "json"], "text", "Line format"),
    }, "Console terminal"),
    file: s.object({
      path: s.string("./log/due.log", "Log file path"),
      format: s.enum(["text", "json"], "text", "Line format"),
      maxAge: s.duration("7d", "Age after which rotated files are deleted"),
      maxSize: s.size("100M", "Size at which the file rotates"),
      rotate: s.enum(["none", "year", "month", "week", "day", "hour"], "none", "Time-based rotation"),
      compress: s.bool(false, "Gzip rotated files"),
    }, "File terminal"),
    aliyun: s.object({
      endpoint: s.string("", "Aliyun SLS endpoint"),
      accessKeyID: s.string("", "Aliyun access key id"),
      accessKeySecret: s.string("", "Aliyun access key secret"),
      project: s.string("", "SLS project"),
      logstore: s.string("", "SLS logstore"),
      topic: s.string("", "SLS topic"),
      source: s.string("", "SLS source; empty = host IP"),
    }, "Aliyun SLS terminal"),
    tencent: s.object({
      endpoint: s.string("", "Tencent CLS endpoint"),
      accessKeyID: s.string("", "Tencent secret id"),
      accessKeySecret: s.string("", "Tencent secret key"),
      topicID: s.string("", "CLS topic id"),
    }, "Tencent CLS terminal"),
  }, "Logging"),

  config: s.object({
    driver: s.enum(["", "file", "etcd", "consul", "nacos"], "", "Business config centre; empty = none"),
    file: s.object({
      path: s.string("./config", "Directory of toml/json/yaml/xml files, watched for changes"),
      mode: s.enum(MODES, "read-only", "What the application may do with the files"),
    }, "Config files in a directory"),
    etcd: s.object({
      addrs: s.list(s.string(), ["127.0.0.1:2379"], "etcd addresses, host:port"),
      dialTimeout: s.duration("5s", "Timeout of connecting to etcd"),
      username: s.string("", "etcd username"),
      password: s.string("", "etcd password"),
      path: s.string("/config", "Key prefix; each key below it is one file (name.ext)"),
      mode: s.enum(MODES, "read-only", "What the application may do with the keys"),
    }, "Config in etcd"),
    consul: s.object({
      addr: s.string("127.0.0.1:8500", "Consul agent address, host:port or http(s) URL"),
      token: s.string("", "ACL token sent as X-Consul-Token; empty = none"),
      path: s.string("config", "Key prefix in the Consul KV store; each key below it is one file (name.ext)"),
      mode: s.enum(MODES, "read-only", "What the application may do with the keys"),
    }, "Config in Consul"),
    nacos: s.object({
      ...nacosFields(),
      mode: s.enum(MODES, "read-only", "What the application may do with the config"),
    }, "Config in Nacos"),
  }, 'Business config centre (config.get("file.key")), separate from this file'),
}, "due startup config");

/**
 * The startup config as loaded: the shape of {@linkcode dueSchema}.
 *
 * Key names stay due's, but units are fixed: every duration key (`heartbeatInterval`, `callTimeout`,
 * `shutdownMaxWaitTime`, …) holds **milliseconds** ({@linkcode s.Milliseconds}) and every size key
 * (`frameLimit`, `bufferBytes`, `readBuffer`, `maxSize`, …) holds **bytes** ({@linkcode s.Bytes}), whatever the
 * file said (`"10s"`, `"4M"`).
 */
export type DueConfig = s.Infer<typeof dueSchema>;

/** What a config file, or an embedder, may give: every key optional, durations and sizes also as strings. */
export type DueConfigInput = s.InferInput<typeof dueSchema>;

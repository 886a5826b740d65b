/**
 * The platform components game code reaches through `node.eventbus`, `node.cache`, `node.lock`, `node.config` and
 * the payload encryptor — each built from its config section by its selector (`eventbus.driver`, `cache.driver`,
 * `lock.driver`, `config.driver`, `cluster.node.encryptor`), memory by default. Backends load lazily.
 *
 * @module
 */

import type { Cache } from "../adapters/cache/types.ts";
import { createCache } from "../adapters/cache/mod.ts";
import type { CacheDriverOptions } from "../adapters/cache/mod.ts";
import { createConfigSourceFromConfig } from "../adapters/configsource/mod.ts";
import { createEncryptor } from "../adapters/crypto/mod.ts";
import type { Encryptor } from "../adapters/crypto/types.ts";
import { createEventBus } from "../adapters/eventbus/mod.ts";
import type { EventBus } from "../adapters/eventbus/types.ts";
import type { EventBusDriverOptions } from "../adapters/eventbus/mod.ts";
import { createLockMaker } from "../adapters/lock/mod.ts";
import type { LockDriverOptions } from "../adapters/lock/mod.ts";
import type { LockMaker } from "../adapters/lock/types.ts";
import { createConfigCenter } from "../config/center.ts";
import type { ConfigCenter } from "../config/center.ts";
import type { DueConfig } from "../config/schema.ts";
import { CloseStack } from "../core/close_stack.ts";
import type { Logger } from "../core/logger.ts";

/** The components of one process. */
export interface Platform {
  /** The event bus (`eventbus.driver`). */
  readonly eventbus: EventBus;
  /** The cache (`cache.driver`). */
  readonly cache: Cache;
  /** The distributed lock maker (`lock.driver`). */
  readonly lock: LockMaker;
  /** The business config centre, when `config.driver` is set. */
  readonly config?: ConfigCenter;
  /** The payload encryptor, when `cluster.node.encryptor` is set. */
  readonly encryptor?: Encryptor;
  /** Closes every component, in reverse creation order. */
  close(): Promise<void>;
}

function redisOptions(section: DueConfig["cache"]["redis"]) {
  const { addrs, db, username, password, maxRetries } = section;
  return { addrs, db, username: username || undefined, password: password || undefined, maxRetries };
}

/** The options of the event bus backend `eventbus.driver` names, from its config sub-section. */
export function eventBusOptions(config: DueConfig["eventbus"], logger: Logger) {
  const options: EventBusDriverOptions = {
    memory: { logger },
    redis: { ...redisOptions(config.redis), prefix: config.redis.prefix, logger },
    nats: { url: config.nats.url, timeoutMs: config.nats.timeout, prefix: config.nats.prefix, logger },
    rabbitmq: { url: config.rabbitmq.url, prefix: config.rabbitmq.exchange, logger },
    kafka: {
      addrs: config.kafka.addrs,
      prefix: config.kafka.prefix,
      clientId: config.kafka.clientId,
      logger,
    },
  };
  return options[config.driver];
}

/** The options of the cache backend `cache.driver` names. */
export function cacheOptions(config: DueConfig["cache"]) {
  const common = {
    prefix: config.prefix,
    nilValue: config.nilValue,
    nilExpirationMs: config.nilExpiration,
    minExpirationMs: config.minExpiration,
    maxExpirationMs: config.maxExpiration,
  };
  const options: CacheDriverOptions = {
    memory: common,
    redis: { ...redisOptions(config.redis), ...common },
    memcache: { addrs: config.memcache.addrs, ...common },
  };
  return options[config.driver];
}

/** The options of the lock backend `lock.driver` names. */
export function lockOptions(config: DueConfig["lock"], logger: Logger) {
  const common = {
    prefix: config.prefix,
    expirationMs: config.expiration,
    acquireIntervalMs: config.acquireInterval,
    acquireMaxRetries: config.acquireMaxRetries,
    logger,
  };
  const options: LockDriverOptions = {
    memory: common,
    redis: { ...redisOptions(config.redis), ...common },
    memcache: { addrs: config.memcache.addrs, ...common },
  };
  return options[config.driver];
}

/** Creates the payload encryptor `cluster.node.encryptor` names (keys from `crypto.<driver>`), if any. */
export async function createPayloadEncryptor(config: DueConfig): Promise<Encryptor | undefined> {
  const driver = config.cluster.node.encryptor;
  if (driver === "") return undefined;
  if (driver === "rsa") {
    const { encryptor, decryptor } = config.crypto.rsa;
    return await createEncryptor("rsa", {
      publicKey: encryptor.publicKey || undefined,
      privateKey: decryptor.privateKey || undefined,
      padding: encryptor.padding,
      hash: encryptor.hash,
      label: encryptor.label || undefined,
      blockSize: encryptor.blockSize,
    });
  }
  const { encryptor, decryptor } = config.crypto.ecc;
  return await createEncryptor("ecc", {
    publicKey: encryptor.publicKey || undefined,
    privateKey: decryptor.privateKey || undefined,
    s1: encryptor.s1 || undefined,
    s2: encryptor.s2 || undefined,
  });
}

/**
 * Creates the platform components config chooses; on failure, closes the ones already made and rethrows (the
 * error names the server the backend tried).
 */
export async function createPlatform(config: DueConfig, logger: Logger): Promise<Platform> {
  const closers = new CloseStack(logger);
  try {
    const eventbus = await createEventBus(
      config.eventbus.driver,
      eventBusOptions(config.eventbus, logger),
    );
    closers.push(() => eventbus.close());
    const cache = await createCache(config.cache.driver, cacheOptions(config.cache));
    closers.push(() => cache.close());
    const lock = await createLockMaker(config.lock.driver, lockOptions(config.lock, logger));
    closers.push(() => lock.close());
    let center: ConfigCenter | undefined;
    const source = await createConfigSourceFromConfig(config.config);
    if (source) {
      center = createConfigCenter({ sources: [source], logger });
      closers.push(() => center!.close());
      await center.load();
    }
    const encryptor = await createPayloadEncryptor(config);
    return { eventbus, cache, lock, config: center, encryptor, close: () => closers.close() };
  } catch (err) {
    await closers.close();
    throw err;
  }
}

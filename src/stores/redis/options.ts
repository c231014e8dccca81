/**
 * The Redis store's options: how to reach Redis (a `RedisConfig` or the caller's client), the key
 * namespace, the deadline of each call and the TTL grace.
 */
import { REDIS_CONFIG_KNOWN_KEYS, type RedisConfig } from '../../core/config.js';
import { ConfigError, shownValue } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { KnownKeys } from '../../core/strict-options.js';
import type { RedisClientKind } from './client.js';
import type { LocalCacheOptions } from './local-cache.js';

/** The Redis stores' defaults: each option's `@default` names its entry here. */
export const REDIS_DEFAULTS = {
  /** Chosen by measurement: see `clientLibrary` and bench/redis-client-choice.ts. */
  clientLibrary: 'node-redis' as RedisClientKind,
  prefix: 'tessera:',
  /** 24 hours. */
  ttlGrace: 86_400_000,
  cleanupBatchSize: 500,
  /** One bucket: standalone Redis and Sentinel hold everything on one server anyway. */
  buckets: 1,
  /** With a Cluster client: each master holds an equal share (see `buckets`). */
  clusterBuckets: 16,
  waitReplicas: 0,
  /** Half a second. */
  waitTimeout: 500,
  /** Half a second: a 503 at once meanwhile, and one probe twice a second. */
  retryDelay: 500,
  /** On with node-redis, chosen by measurement: see `localCache`. Bounds: LOCAL_CACHE_DEFAULTS. */
  localCache: true,
} as const;

/**
 * A client the caller already holds: a node-redis client, Cluster or Sentinel (`createClient`,
 * `createCluster`, `createSentinel`, connected) or an ioredis `Redis` (standalone or Sentinel) or
 * `Cluster`. Typed loosely so neither package is needed to compile against this module.
 */
export type RedisClientLike = object;

export interface RedisStoreOptions extends RedisConfig {
  /**
   * Use this client instead of creating one from the connection fields. The store never closes a
   * client it did not create. A node-redis client must already be connected.
   */
  client?: RedisClientLike;
  /**
   * Which library creates the connection when no `client` is given. Chosen by measurement on the
   * store's own scripts (bench/redis-client-choice.ts): both libraries reach the same throughput
   * (the server's script time bounds it) and node-redis spent the same or less client CPU per
   * operation, so it is the default.
   * @default REDIS_DEFAULTS.clientLibrary
   */
  clientLibrary?: RedisClientKind;
  /**
   * Namespace of every key. Keys are `{<prefix>}…` with one bucket, `{<prefix><bucket tag>}…` with
   * several: the braces are the Cluster hash tag of each bucket.
   * @default REDIS_DEFAULTS.prefix
   */
  prefix?: string;
  /**
   * How many buckets (Cluster hash slots) the sessions are spread over. A session's bucket follows
   * from its id; the manager draws each new session's id so it lands in its user's bucket, where
   * the user's index is, so the per-user limit and "log out everywhere" stay one atomic script. The
   * bucket tags are chosen so each bucket falls in its own equal slice of the 16,384 slots: on a
   * Cluster whose masters own equal slot ranges, each master holds an equal share of the sessions.
   * Listing, stats, cleanup and a user's list or logout walk every bucket (one call per bucket).
   * Every store of a deployment must use the same count: it is stored in Redis at the first
   * connection and a store configured otherwise refuses to run (ConfigError).
   * @default REDIS_DEFAULTS.buckets (REDIS_DEFAULTS.clusterBuckets with a Cluster client)
   */
  buckets?: number;
  /** Deadline for each operation, after which it fails with `StoreUnavailableError`. @default the `connectTimeout` */
  commandTimeout?: number | string;
  /**
   * After a connection failure, every call fails at once with `StoreUnavailableError` for this
   * long (ms or a string like `"500ms"`) instead of waiting out `commandTimeout`; then one call at
   * a time probes Redis while the others keep failing at once. A store-created client that
   * reconnects opens the way at once. A reply that is only late, on a connection the client still
   * reports as up, does not count as a connection failure.
   * @default REDIS_DEFAULTS.retryDelay
   */
  retryDelay?: number | string;
  /**
   * How long Redis keeps a session's hash past its expiry before deleting it by itself (a TTL
   * computed from the caller's clock). Within it an expired session is reported as
   * `expired_idle`/`expired_absolute` and counted out of the stats exactly; run `cleanup` more often
   * than this (the manager's job does) so the device counters stay exact. Zero: no grace.
   * @default REDIS_DEFAULTS.ttlGrace
   */
  ttlGrace?: number | string;
  /** Sessions removed per cleanup script call (each call blocks Redis for its batch only). @default REDIS_DEFAULTS.cleanupBatchSize */
  cleanupBatchSize?: number;
  /**
   * Serve session reads from process memory, kept exact by Redis's own invalidation (RESP3 client
   * tracking): a session read again by the same process needs no round trip, and any change to it
   * anywhere (a logout or a patch from another process, the dashboard or the CLI, an expiry, an
   * eviction) drops the local copy. `true` uses the default bounds (`LOCAL_CACHE_DEFAULTS`), an
   * object sets them, `false` turns it off. Needs node-redis (the default library) and Redis 6 or
   * later; with ioredis the default turns it off and an explicit value is a `ConfigError`. The
   * store opens one more connection for it (per server on a Cluster). The staleness bound is in
   * the README's Redis section.
   * @default REDIS_DEFAULTS.localCache
   */
  localCache?: boolean | LocalCacheOptions;
  /**
   * Durability across a failover: after every write the store sends `WAIT` on the connection that
   * wrote it and answers only once this many replicas hold the write. Fewer within `waitTimeout`:
   * the call fails with `StoreUnavailableError` (the write may then exist on the master alone). Not
   * available with an ioredis Cluster client (its keyless `WAIT` may go to another node: use
   * node-redis `createCluster`). 0: writes are acknowledged by the master alone, as Redis does.
   * @default REDIS_DEFAULTS.waitReplicas
   */
  waitReplicas?: number;
  /** How long a write waits for `waitReplicas` replicas (ms or a string like `"500ms"`). @default REDIS_DEFAULTS.waitTimeout */
  waitTimeout?: number | string;
  /** Where corrupted records and connection errors are reported. @default silent */
  logger?: Logger;
}

/**
 * The Redis store's option keys. `client` is the caller's client instance, used as it is: its
 * own options were checked by its library when it was built.
 */
export const REDIS_KNOWN_KEYS = {
  ...REDIS_CONFIG_KNOWN_KEYS,
  client: true,
  clientLibrary: true,
  prefix: true,
  commandTimeout: true,
  retryDelay: true,
  ttlGrace: true,
  cleanupBatchSize: true,
  logger: true,
  buckets: true,
  localCache: true,
  waitReplicas: true,
  waitTimeout: true,
} as const satisfies KnownKeys<RedisStoreOptions>;

/** Default library for a store-created connection (`REDIS_DEFAULTS.clientLibrary`). */
export const DEFAULT_CLIENT_LIBRARY: RedisClientKind = REDIS_DEFAULTS.clientLibrary;

/** The key namespace: any non-empty string (it is wrapped in a Cluster hash tag). */
export function prefixOption(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError('redis.prefix', `must be a non-empty string, got ${shownValue(value)}`);
  return value;
}

/**
 * The Redis store's options: how to reach Redis (a `RedisConfig` or the caller's client), the key
 * namespace, the deadline of each call and the TTL grace.
 */
import type { RedisConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, shownValue } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RedisClientKind } from './client.js';

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
   * @default "node-redis"
   */
  clientLibrary?: RedisClientKind;
  /**
   * Namespace of every key. Keys are `{<prefix>}…`: the braces make the whole deployment one
   * Cluster hash slot, which is what keeps the per-user limit and termination atomic there.
   * @default "tessera:"
   */
  prefix?: string;
  /** Deadline for each operation, after which it fails with `StoreUnavailableError`. @default connectTimeout (2000 ms) */
  commandTimeout?: number | string;
  /**
   * How long Redis keeps a session's hash past its expiry before deleting it by itself (a TTL
   * computed from the caller's clock). Within it an expired session is reported as
   * `expired_idle`/`expired_absolute` and counted out of the stats exactly; run `cleanup` more often
   * than this (the manager's job does) so the device counters stay exact.
   * @default 86_400_000 (24 h)
   */
  ttlGrace?: number | string;
  /** Sessions removed per cleanup script call (each call blocks Redis for its batch only). @default 500 */
  cleanupBatchSize?: number;
  /** Where corrupted records and connection errors are reported. @default silent */
  logger?: Logger;
}

/** Default library for a store-created connection: see bench/redis-client-choice.ts. */
export const DEFAULT_CLIENT_LIBRARY: RedisClientKind = 'node-redis';

export function durationOption(
  field: string,
  value: number | string | undefined,
  fallback: number,
) {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms < 0)
    throw new ConfigError(field, `must be a duration, got ${shownValue(value)}`);
  return ms;
}

export function prefixOption(prefix: unknown): string {
  const value = prefix ?? 'tessera:';
  if (typeof value !== 'string' || value === '')
    throw new ConfigError('redis.prefix', `must be a non-empty string, got ${shownValue(value)}`);
  return value;
}

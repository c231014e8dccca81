/** The Memcached store's options: servers (a `MemcachedConfig`), key namespace, TTL grace, CAS bound. */
import { type MemcachedConfig, resolveMemcachedConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, shownValue } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { SAFE_KEY } from './keys.js';

export interface MemcachedStoreOptions extends MemcachedConfig {
  /** Namespace of every key. @default "tessera:" */
  prefix?: string;
  /**
   * How long an item outlives its session's expiry before Memcached drops it by itself. Within it a
   * lookup says `expired_idle`/`expired_absolute` and `cleanup` finds and counts the session.
   * @default 3_600_000 (1 h)
   */
  ttlGrace?: number | string;
  /** Width of one expiry bucket; cleanup reads `ttlGrace / cleanupBucket` bucket items. @default 60_000 (1 min) */
  cleanupBucket?: number | string;
  /** After a connection failure, calls to that server fail at once for this long. @default 1000 ms */
  retryDelay?: number | string;
  /** Compare-and-swap attempts before an operation gives up with `StoreError`. @default 1000 */
  maxCasAttempts?: number;
  /** Where corrupted items and cleanup problems are reported. @default silent */
  logger?: Logger;
}

function durationOption(field: string, value: number | string | undefined, fallback: number) {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms <= 0)
    throw new ConfigError(field, `must be a duration, got ${shownValue(value)}`);
  return ms;
}

export function resolveOptions(options: MemcachedStoreOptions) {
  const {
    prefix,
    ttlGrace,
    cleanupBucket,
    retryDelay,
    maxCasAttempts,
    logger: _logger,
    ...config
  } = options;
  const resolved = resolveMemcachedConfig(config);
  const base = prefix ?? 'tessera:';
  if (typeof base !== 'string' || base === '' || !SAFE_KEY.test(base) || base.length > 100)
    throw new ConfigError('memcached.prefix', 'must be 1-100 printable characters without spaces');
  const attempts = maxCasAttempts ?? 1000;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new ConfigError('memcached.maxCasAttempts', 'must be a positive integer');
  return {
    ...resolved,
    prefix: base,
    grace: durationOption('memcached.ttlGrace', ttlGrace, 3_600_000),
    bucketMs: durationOption('memcached.cleanupBucket', cleanupBucket, 60_000),
    retryDelay: durationOption('memcached.retryDelay', retryDelay, 1000),
    attempts,
  };
}

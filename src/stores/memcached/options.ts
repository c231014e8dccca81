/** The Memcached store's options: servers (a `MemcachedConfig`), key namespace, TTL grace, CAS bound. */
import {
  MEMCACHED_CONFIG_KNOWN_KEYS,
  type MemcachedConfig,
  resolveMemcachedConfig,
} from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { KnownKeys } from '../../core/strict-options.js';
import { durationOption, positiveInteger, retentionOption } from '../options.js';
import { SAFE_KEY } from './keys.js';

/** The Memcached stores' defaults: each option's `@default` names its entry here. */
export const MEMCACHED_DEFAULTS = {
  prefix: 'tessera:',
  /** 1 hour. */
  ttlGrace: 3_600_000,
  /** 1 minute. */
  cleanupBucket: 60_000,
  /** Half a second, as the Redis store's. */
  retryDelay: 500,
  maxCasAttempts: 1000,
} as const;

export interface MemcachedStoreOptions extends MemcachedConfig {
  /** Namespace of every key. @default MEMCACHED_DEFAULTS.prefix */
  prefix?: string;
  /**
   * How long an item outlives its session's expiry before Memcached drops it by itself. Within it a
   * lookup says `expired_idle`/`expired_absolute` and `cleanup` finds and counts the session.
   * Zero: no grace.
   * @default MEMCACHED_DEFAULTS.ttlGrace
   */
  ttlGrace?: number | string;
  /** Width of one expiry bucket; cleanup reads `ttlGrace / cleanupBucket` bucket items. @default MEMCACHED_DEFAULTS.cleanupBucket */
  cleanupBucket?: number | string;
  /**
   * After a connection failure, calls to that server fail at once with `StoreUnavailableError`
   * for this long; then one call at a time probes it while the others keep failing at once.
   * @default MEMCACHED_DEFAULTS.retryDelay
   */
  retryDelay?: number | string;
  /** Compare-and-swap attempts before an operation gives up with `StoreError`. @default MEMCACHED_DEFAULTS.maxCasAttempts */
  maxCasAttempts?: number;
  /** Where corrupted items and cleanup problems are reported. @default silent */
  logger?: Logger;
}

/** The Memcached store's option keys. */
export const MEMCACHED_KNOWN_KEYS = {
  ...MEMCACHED_CONFIG_KNOWN_KEYS,
  prefix: true,
  ttlGrace: true,
  cleanupBucket: true,
  retryDelay: true,
  maxCasAttempts: true,
  logger: true,
} as const satisfies KnownKeys<MemcachedStoreOptions>;

/** A key namespace memcached accepts as the start of every key. */
function prefixOption(value: unknown): string {
  if (typeof value !== 'string' || value === '' || !SAFE_KEY.test(value) || value.length > 100)
    throw new ConfigError('memcached.prefix', 'must be 1-100 printable characters without spaces');
  return value;
}

/** The options checked and completed with the defaults. */
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
  const defaults = MEMCACHED_DEFAULTS;
  return {
    ...resolveMemcachedConfig(config),
    prefix: prefixOption(prefix ?? defaults.prefix),
    grace: retentionOption('memcached.ttlGrace', ttlGrace ?? defaults.ttlGrace),
    bucketMs: durationOption('memcached.cleanupBucket', cleanupBucket ?? defaults.cleanupBucket),
    retryDelay: durationOption('memcached.retryDelay', retryDelay ?? defaults.retryDelay),
    attempts: positiveInteger(
      'memcached.maxCasAttempts',
      maxCasAttempts ?? defaults.maxCasAttempts,
    ),
  };
}

/**
 * The fallback rate-limit store: login rate limiting that survives its store's outage by counting
 * in a secondary store while the primary is unreachable.
 */
import { StoreUnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { describeError, silentLogger } from '../../core/logger.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type { RateLimitStore } from '../../core/types.js';
import { durationOption } from '../options.js';
import { FALLBACK_STORE_NAME } from './store.js';

/** The fallback rate-limit store's defaults: each option's `@default` names its entry here. */
export const FALLBACK_RATE_LIMIT_DEFAULTS = {
  retryInterval: 1000,
} as const;

export interface FallbackRateLimitStoreOptions {
  /** The shared counters (Redis, say). Closed on `close()`. */
  primary: RateLimitStore;
  /** Counters used while the primary is unreachable (the in-process memory store, say). Closed on `close()`. */
  secondary: RateLimitStore;
  /**
   * After a failure, how long calls go straight to the secondary before the primary is tried
   * again (ms or a string like `"1s"`).
   * @default FALLBACK_RATE_LIMIT_DEFAULTS.retryInterval
   */
  retryInterval?: number | string;
  /** Logs failovers. @default a silent logger */
  logger?: Logger;
}

/** The fallback rate-limit store's option keys. */
export const FALLBACK_RATE_LIMIT_KNOWN_KEYS = {
  primary: true,
  secondary: true,
  retryInterval: true,
  logger: true,
} as const satisfies KnownKeys<FallbackRateLimitStoreOptions>;

/**
 * Login rate limiting that survives its store's outage: while the primary is unreachable the
 * secondary counts (per process, when it is the memory store, so the limit is looser across
 * processes for that time), and the primary is tried again every `retryInterval`. Without it a
 * Redis outage would turn every login into a 503 even with the session store falling back.
 */
export function createFallbackRateLimitStore(
  options: FallbackRateLimitStoreOptions,
): RateLimitStore {
  rejectUnknownKeys('createFallbackRateLimitStore()', options, FALLBACK_RATE_LIMIT_KNOWN_KEYS);
  const { primary, secondary } = options;
  const retryInterval = durationOption(
    'fallback.retryInterval',
    options.retryInterval ?? FALLBACK_RATE_LIMIT_DEFAULTS.retryInterval,
  );
  const logger = options.logger ?? silentLogger;
  let downUntil = 0;
  async function route<T>(op: (s: RateLimitStore) => Promise<T>): Promise<T> {
    if (Date.now() >= downUntil) {
      try {
        const value = await op(primary);
        downUntil = 0;
        return value;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        if (downUntil === 0)
          logger.warn(
            { primary: primary.name, err: describeError(err) },
            'tessera: rate-limit store down; counting in the secondary',
          );
        downUntil = Date.now() + retryInterval;
      }
    }
    return op(secondary);
  }
  return {
    name: FALLBACK_STORE_NAME,
    hit: (key, windowMs, now) => route((s) => s.hit(key, windowMs, now)),
    peek: (key, now) => route((s) => s.peek(key, now)),
    // Cleared in both: a counter left in either would block a user who just logged in.
    async reset(key) {
      await Promise.all([
        primary.reset(key).catch((err) => {
          if (!(err instanceof StoreUnavailableError)) throw err;
        }),
        secondary.reset(key),
      ]);
    },
    async close() {
      await Promise.allSettled([primary.close(), secondary.close()]);
    },
  };
}

/**
 * The Redis rate-limit store: fixed-window login-attempt counters shared by every process, one
 * script per hit (increment, open the window, set the TTL).
 */
import { silentLogger } from '../../core/logger.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type { RateLimitState, RateLimitStore } from '../../core/types.js';
import { REDIS_STORE_NAME } from './client.js';
import { connect } from './connection.js';
import {
  prefixOption,
  REDIS_DEFAULTS,
  REDIS_KNOWN_KEYS,
  type RedisStoreOptions,
} from './options.js';
import { strings } from './replies.js';
import { RATE_HIT } from './scripts.js';

export interface RedisRateLimitStoreOptions
  extends Omit<
    RedisStoreOptions,
    'ttlGrace' | 'cleanupBatchSize' | 'buckets' | 'localCache' | 'waitReplicas' | 'waitTimeout'
  > {
  /** Namespace of the counters' keys (`<prefix>rl:<key>`). @default REDIS_DEFAULTS.prefix */
  prefix?: string;
}

/** The Redis rate-limit store's option keys: the store's, less its session-only ones. */
const {
  ttlGrace: _grace,
  cleanupBatchSize: _batch,
  buckets: _buckets,
  localCache: _cache,
  waitReplicas: _replicas,
  waitTimeout: _wait,
  ...RATE_LIMIT_KEYS
} = REDIS_KNOWN_KEYS;
export const REDIS_RATE_LIMIT_KNOWN_KEYS =
  RATE_LIMIT_KEYS satisfies KnownKeys<RedisRateLimitStoreOptions>;

/** Fixed-window counters in Redis: one script per hit (increment, open the window, set the TTL). */
export function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions = {},
): RateLimitStore {
  rejectUnknownKeys('createRedisRateLimitStore()', options, REDIS_RATE_LIMIT_KNOWN_KEYS);
  const logger = options.logger ?? silentLogger;
  const prefix = prefixOption(options.prefix ?? REDIS_DEFAULTS.prefix);
  const { conn } = connect(options, logger);
  const key = (k: string) => `${prefix}rl:${k}`;
  return {
    name: REDIS_STORE_NAME,
    async hit(k: string, windowMs: number, now: number): Promise<RateLimitState> {
      const client = await conn.next();
      const reply = await client.run(RATE_HIT, [key(k)], [String(now), String(windowMs)]);
      const [count, resetAt] = strings(reply);
      return { count: Number(count), resetAt: Number(resetAt) };
    },
    async peek(k: string, now: number): Promise<RateLimitState | null> {
      const client = await conn.next();
      const [count, resetAt] = strings(await client.command(['HMGET', key(k), 'c', 'r'], key(k)));
      const state = { count: Number(count), resetAt: Number(resetAt) };
      if (!Number.isFinite(state.count) || !Number.isFinite(state.resetAt) || state.resetAt <= now)
        return null;
      return state;
    },
    async reset(k: string): Promise<void> {
      const client = await conn.next();
      await client.command(['DEL', key(k)], key(k));
    },
    close: () => conn.close(),
  };
}

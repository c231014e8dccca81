/** The Memcached rate-limit store: fixed-window login-attempt counters shared by every process. */
import { MEMCACHED_CONFIG_KNOWN_KEYS, type MemcachedConfig } from '../../core/config.js';
import { StoreError } from '../../core/errors.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type { RateLimitState, RateLimitStore } from '../../core/types.js';
import { RETRY, retryOnConflict } from './cas.js';
import { MEMCACHED_STORE_NAME, MemcachedClient } from './client.js';
import { makeKeyer, ttlSeconds } from './keys.js';
import { resolveOptions } from './options.js';

/** The Memcached rate-limit store's defaults: each option's `@default` names its entry here. */
export const MEMCACHED_RATE_LIMIT_DEFAULTS = {
  prefix: 'tessera:rl:',
} as const;

export interface MemcachedRateLimitStoreOptions extends MemcachedConfig {
  /** Namespace of every key. @default MEMCACHED_RATE_LIMIT_DEFAULTS.prefix */
  prefix?: string;
  /** After a connection failure, calls to that server fail at once for this long (then one probes). @default MEMCACHED_DEFAULTS.retryDelay */
  retryDelay?: number | string;
}

/** The Memcached rate-limit store's option keys. */
export const MEMCACHED_RATE_LIMIT_KNOWN_KEYS = {
  ...MEMCACHED_CONFIG_KNOWN_KEYS,
  prefix: true,
  retryDelay: true,
} as const satisfies KnownKeys<MemcachedRateLimitStoreOptions>;

/**
 * Fixed-window counters on Memcached. The window's end is one item created with `add` (or replaced
 * with `cas` once past, by the caller's clock); the count is a second item named after that end and
 * raised with `incr`, so hits from many processes are all counted and never mix two windows.
 */
export function createMemcachedRateLimitStore(
  options: MemcachedRateLimitStoreOptions = {},
): RateLimitStore {
  rejectUnknownKeys('createMemcachedRateLimitStore()', options, MEMCACHED_RATE_LIMIT_KNOWN_KEYS);
  const o = resolveOptions({
    ...options,
    prefix: options.prefix ?? MEMCACHED_RATE_LIMIT_DEFAULTS.prefix,
  });
  const client = new MemcachedClient(o);
  const key = makeKeyer(o.prefix);
  const windowKey = (k: string) => key(`${o.prefix}w:${k}`);
  const countKey = (k: string, resetAt: number) => key(`${o.prefix}c:${resetAt}:${k}`);

  /** The end of `k`'s open window, opening one when there is none (or it is past). */
  function openWindow(k: string, windowMs: number, now: number): Promise<number> {
    return retryOnConflict(o.attempts, 'rate-limit window', async () => {
      const item = await client.gets(windowKey(k));
      const current = item ? Number(item.value.toString('latin1')) : null;
      if (current !== null && current > now) return current;
      const resetAt = now + windowMs;
      const ttl = ttlSeconds(resetAt, now);
      const reply = item
        ? await client.cas(windowKey(k), String(resetAt), ttl, item.cas)
        : await client.add(windowKey(k), String(resetAt), ttl);
      return reply === 'STORED' ? resetAt : RETRY;
    });
  }

  return {
    name: MEMCACHED_STORE_NAME,
    async hit(k, windowMs, now): Promise<RateLimitState> {
      const resetAt = await openWindow(k, windowMs, now);
      const ck = countKey(k, resetAt);
      for (let i = 0; i < 3; i++) {
        const count = await client.incr(ck, 1);
        if (count !== null) return { count, resetAt };
        if ((await client.add(ck, '1', ttlSeconds(resetAt, now))) === 'STORED')
          return { count: 1, resetAt };
      }
      throw new StoreError(MEMCACHED_STORE_NAME, 'rate-limit counter could not be created');
    },
    async peek(k, now): Promise<RateLimitState | null> {
      const item = await client.gets(windowKey(k));
      const resetAt = item ? Number(item.value.toString('latin1')) : null;
      if (resetAt === null || !(resetAt > now)) return null;
      const count = (await client.getMany([countKey(k, resetAt)])).get(countKey(k, resetAt));
      return count ? { count: Number(count.toString('latin1')), resetAt } : null;
    },
    async reset(k): Promise<void> {
      await client.delete(windowKey(k));
    },
    async close(): Promise<void> {
      client.close();
    },
  };
}

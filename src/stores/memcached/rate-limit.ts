/** The Memcached rate-limit store: fixed-window login-attempt counters shared by every process. */
import type { MemcachedConfig } from '../../core/config.js';
import { StoreError } from '../../core/errors.js';
import type { RateLimitState, RateLimitStore } from '../../core/types.js';
import { backoff } from './cas.js';
import { MEMCACHED_STORE_NAME, MemcachedClient } from './client.js';
import { makeKeyer, ttlSeconds } from './keys.js';
import { resolveOptions } from './options.js';

export interface MemcachedRateLimitStoreOptions extends MemcachedConfig {
  /** Namespace of every key. @default "tessera:rl:" */
  prefix?: string;
  /** After a connection failure, calls to that server fail at once for this long. @default 1000 ms */
  retryDelay?: number | string;
}

/**
 * Fixed-window counters on Memcached. The window's end is one item created with `add` (or replaced
 * with `cas` once past, by the caller's clock); the count is a second item named after that end and
 * raised with `incr`, so hits from many processes are all counted and never mix two windows.
 */
export function createMemcachedRateLimitStore(
  options: MemcachedRateLimitStoreOptions = {},
): RateLimitStore {
  const o = resolveOptions({ ...options, prefix: options.prefix ?? 'tessera:rl:' });
  const client = new MemcachedClient(o);
  const key = makeKeyer(o.prefix);
  const windowKey = (k: string) => key(`${o.prefix}w:${k}`);
  const countKey = (k: string, resetAt: number) => key(`${o.prefix}c:${resetAt}:${k}`);

  async function openWindow(k: string, windowMs: number, now: number): Promise<number> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const item = await client.gets(windowKey(k));
      const current = item ? Number(item.value.toString('latin1')) : null;
      if (current !== null && current > now) return current;
      const resetAt = now + windowMs;
      const ttl = ttlSeconds(resetAt, now);
      const reply = item
        ? await client.cas(windowKey(k), String(resetAt), ttl, item.cas)
        : await client.add(windowKey(k), String(resetAt), ttl);
      if (reply === 'STORED') return resetAt;
      await backoff(attempt);
    }
    throw new StoreError(MEMCACHED_STORE_NAME, 'rate-limit window: too many CAS conflicts');
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

/**
 * The in-memory rate-limit store: fixed-window login-attempt counters in one process, bounded
 * (`maxKeys`) so a flood of distinct usernames or addresses cannot exhaust memory.
 */
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type { RateLimitState, RateLimitStore } from '../../core/types.js';
import { positiveInteger } from '../options.js';
import { MEMORY_STORE_NAME } from './store.js';

/** The memory rate-limit store's defaults: each option's `@default` names its entry here. */
export const MEMORY_RATE_LIMIT_DEFAULTS = {
  maxKeys: 100_000,
} as const;

export interface MemoryRateLimitStoreOptions {
  /**
   * The most counters kept; past it, expired windows are swept and then the oldest dropped.
   * @default MEMORY_RATE_LIMIT_DEFAULTS.maxKeys
   */
  maxKeys?: number;
}

/** The memory rate-limit store's option keys. */
export const MEMORY_RATE_LIMIT_KNOWN_KEYS = {
  maxKeys: true,
} as const satisfies KnownKeys<MemoryRateLimitStoreOptions>;

/** Fixed-window login-attempt counters in memory. */
export function createMemoryRateLimitStore(
  options: MemoryRateLimitStoreOptions = {},
): RateLimitStore {
  rejectUnknownKeys('createMemoryRateLimitStore()', options, MEMORY_RATE_LIMIT_KNOWN_KEYS);
  const maxKeys = positiveInteger('maxKeys', options.maxKeys ?? MEMORY_RATE_LIMIT_DEFAULTS.maxKeys);
  const counters = new Map<string, RateLimitState>();

  function current(key: string, now: number): RateLimitState | null {
    const state = counters.get(key);
    if (!state) return null;
    if (state.resetAt <= now) {
      counters.delete(key);
      return null;
    }
    return state;
  }

  function makeRoom(now: number): void {
    if (counters.size < maxKeys) return;
    for (const [key, state] of counters) if (state.resetAt <= now) counters.delete(key);
    while (counters.size >= maxKeys) counters.delete(counters.keys().next().value!);
  }

  return {
    name: MEMORY_STORE_NAME,
    async hit(key, windowMs, now) {
      const state = current(key, now);
      if (state) {
        state.count++;
        return { ...state };
      }
      makeRoom(now);
      const fresh = { count: 1, resetAt: now + windowMs };
      counters.set(key, fresh);
      return { ...fresh };
    },
    async peek(key, now) {
      const state = current(key, now);
      return state ? { ...state } : null;
    },
    async reset(key) {
      counters.delete(key);
    },
    async close() {
      counters.clear();
    },
  };
}

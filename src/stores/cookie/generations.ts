/**
 * Per-user generations for the cookie store: what makes "log out everywhere" possible for
 * client-side sessions. Every cookie carries the generation it was sealed under; moving a user to
 * a new generation kills all of that user's earlier cookies at once.
 */
import { MAX_DURATION_MS } from '../../core/config.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type { RateLimitStore } from '../../core/types.js';

/**
 * A per-user generation kept server-side (in any other store). Every cookie carries the generation
 * it was sealed under; `bump` makes all earlier cookies of that user dead. When the value is lost
 * the next `current` starts a new one, so a lost counter logs users out rather than reviving
 * revoked cookies.
 */
export interface GenerationStore {
  /** The user's generation, starting one when there is none. */
  current(userId: string): Promise<string>;
  /** Moves the user to a new generation. */
  bump(userId: string): Promise<void>;
}

/** `generationsFromRateLimitStore`'s defaults: each option's `@default` names its entry here. */
export const GENERATION_DEFAULTS = {
  prefix: 'tessera:gen:',
  /** Ten years, the longest duration accepted anywhere. */
  lifetime: MAX_DURATION_MS,
} as const;

export interface RateLimitGenerationOptions {
  /** Key namespace inside the rate-limit store. @default GENERATION_DEFAULTS.prefix */
  prefix?: string;
  /** How long a generation lives without being bumped (the counter's window). @default GENERATION_DEFAULTS.lifetime */
  lifetime?: number;
}

/** `generationsFromRateLimitStore`'s option keys. */
export const GENERATION_KNOWN_KEYS = {
  prefix: true,
  lifetime: true,
} as const satisfies KnownKeys<RateLimitGenerationOptions>;

/**
 * Generations kept in any `RateLimitStore` (memory, Redis, Memcached): the counter's window start
 * and count together are the generation, so a counter that is lost and restarted never matches an
 * old cookie.
 */
export function generationsFromRateLimitStore(
  store: RateLimitStore,
  options: RateLimitGenerationOptions = {},
): GenerationStore {
  rejectUnknownKeys('generationsFromRateLimitStore()', options, GENERATION_KNOWN_KEYS);
  const prefix = options.prefix ?? GENERATION_DEFAULTS.prefix;
  const lifetime = options.lifetime ?? GENERATION_DEFAULTS.lifetime;
  const key = (userId: string) => `${prefix}${userId}`;
  return {
    async current(userId) {
      const now = Date.now();
      let state = await store.peek(key(userId), now);
      if (!state) {
        await store.hit(key(userId), lifetime, now);
        // Read back: two first calls racing both end on the same, final value.
        state = await store.peek(key(userId), now);
      }
      return state ? `${state.resetAt}.${state.count}` : 'none';
    },
    async bump(userId) {
      await store.hit(key(userId), lifetime, Date.now());
    },
  };
}

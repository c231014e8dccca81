/**
 * `tessera-session/fallback`: the fallback session store (./fallback/store.ts), which serves from a
 * secondary store while the primary is down, and the fallback rate-limit store
 * (./fallback/rate-limit.ts).
 */
export {
  createFallbackRateLimitStore,
  FALLBACK_RATE_LIMIT_DEFAULTS,
  type FallbackRateLimitStoreOptions,
} from './fallback/rate-limit.js';
export {
  createFallbackStore,
  FALLBACK_DEFAULTS,
  FALLBACK_STORE_NAME,
  type FallbackStore,
  type FallbackStoreOptions,
} from './fallback/store.js';

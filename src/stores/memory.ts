/**
 * `tessera-session/memory`: the in-memory session store (./memory/store.ts) and rate-limit store
 * (./memory/rate-limit.ts), the defaults of a manager built without a store.
 */
export {
  createMemoryRateLimitStore,
  MEMORY_RATE_LIMIT_DEFAULTS,
  type MemoryRateLimitStoreOptions,
} from './memory/rate-limit.js';
export {
  createMemoryStore,
  MEMORY_DEFAULTS,
  MEMORY_STORE_NAME,
  type MemoryStoreOptions,
} from './memory/store.js';

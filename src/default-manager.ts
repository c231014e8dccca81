/**
 * `createSessionManager` as the package entry offers it: the core factory with the in-memory
 * session store and rate-limit store as the defaults. The core itself imports no store.
 */

import { createSessionManagerWith, type DefaultStores } from './core/manager.js';
import type { SessionManager } from './core/manager-api.js';
import type { SessionManagerOptions } from './core/manager-options.js';
import type { SessionData } from './core/types.js';
import { createMemoryRateLimitStore, createMemoryStore } from './stores/memory.js';

const MEMORY_DEFAULTS: DefaultStores = {
  sessionStore: () => createMemoryStore(),
  rateLimitStore: () => createMemoryRateLimitStore(),
};

/**
 * Builds a session manager. Options are validated at once: a bad value throws `ConfigError`
 * naming the field. Without a `store` (or a `rateLimit.store`) it keeps sessions (or login
 * counters) in memory, and `close()` closes those; a store you pass in stays open.
 */
export function createSessionManager<Data extends SessionData = SessionData>(
  options: SessionManagerOptions<Data> = {},
): SessionManager<Data> {
  return createSessionManagerWith(MEMORY_DEFAULTS, options);
}

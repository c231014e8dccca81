/**
 * Tessera: secure server-side session management. The root entry holds the core (manager,
 * contracts, config, errors) and the default memory store; backends and adapters are subpath
 * exports (`tessera-session/redis`, `tessera-session/express`, …) so their client libraries stay optional.
 */

export * from './core/client-keys.js';
export type { ClientSessionScope, ClientSideSessions } from './core/client-side.js';
export * from './core/config.js';
export type { KeepData } from './core/data-carry.js';
export * from './core/device.js';
export * from './core/duration.js';
export * from './core/env-config.js';
export * from './core/errors.js';
export * from './core/events.js';
export * from './core/logger.js';
export { createSessionManagerWith, type DefaultStores, summarize } from './core/manager.js';
export * from './core/manager-api.js';
export {
  type IpChangePolicy,
  MANAGER_DEFAULTS,
  type RateLimitOptions,
  type SessionManagerOptions,
} from './core/manager-options.js';
export * from './core/tokens.js';
export * from './core/types.js';
export { createSessionManager } from './default-manager.js';
export * from './stores/memory.js';

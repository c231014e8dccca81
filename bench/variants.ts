/**
 * What the HTTP benchmark runs: the frameworks, each one's variants (plain, its usual session
 * library, Tessera on Redis with and without the local cache, Tessera on memory) and their labels.
 * Shared by the harness (bench/http.ts), the servers (bench/http-server.ts) and the report, and
 * free of side effects so any of them can import it.
 */

export type Framework = 'express' | 'fastify' | 'hono';
export type Variant =
  | 'plain'
  | 'tessera-redis'
  | 'tessera-redis-cache'
  | 'tessera-memory'
  | 'express-session'
  | 'fastify-session'
  | 'fastify-session-rolling';

/**
 * The Redis store options that switch its local (client-side) cache on and off. `on: null` would
 * mean the store has no such cache: the `tessera-redis-cache` variant then runs with the `off`
 * options, and the report marks its rows and targets as not measuring a cache.
 */
export const REDIS_LOCAL_CACHE: {
  on: Record<string, unknown> | null;
  off: Record<string, unknown>;
} = { on: { localCache: true }, off: { localCache: false } };

/** Whether the "local cache" variant really has one (see `REDIS_LOCAL_CACHE`). */
export const LOCAL_CACHE_AVAILABLE = REDIS_LOCAL_CACHE.on !== null;

export const FRAMEWORKS: Record<Framework, Variant[]> = {
  express: ['plain', 'express-session', 'tessera-redis-cache', 'tessera-redis', 'tessera-memory'],
  fastify: [
    'plain',
    'fastify-session-rolling',
    'fastify-session',
    'tessera-redis-cache',
    'tessera-redis',
    'tessera-memory',
  ],
  hono: ['plain', 'tessera-redis-cache', 'tessera-redis', 'tessera-memory'],
};

export const VARIANT_LABEL: Record<Variant, string> = {
  plain: 'plain',
  'express-session': 'express-session + connect-redis',
  'fastify-session': '@fastify/session + connect-redis (rolling off)',
  'fastify-session-rolling': '@fastify/session + connect-redis (default, rolling on)',
  'tessera-redis': 'Tessera (Redis, no local cache)',
  'tessera-redis-cache': LOCAL_CACHE_AVAILABLE
    ? 'Tessera (Redis, local cache)'
    : 'Tessera (Redis, local cache NOT AVAILABLE yet: runs without)',
  'tessera-memory': 'Tessera (memory)',
};

/** Variants that talk to Redis (their rows carry round trips and commands). */
export function usesRedis(variant: Variant): boolean {
  return variant !== 'plain' && variant !== 'tessera-memory';
}

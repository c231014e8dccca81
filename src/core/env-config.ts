/**
 * Configuration from environment variables: which backend (`SESSION_STORAGE`, with aliases such as
 * `postgres` or `sqlite`), how to reach it, and the manager settings an operator may set. A bad
 * variable is a `ConfigError` naming the variable, not the config field.
 */
import { z } from 'zod';
import {
  durationSchema,
  parseConfig,
  type ResolvedMemcachedConfig,
  type ResolvedRedisConfig,
  type ResolvedSqlConfig,
  resolveMemcachedConfig,
  resolveRedisConfig,
  resolveSqlConfig,
} from './config.js';
import { ConfigError } from './errors.js';

export const STORAGE_KINDS = [
  'memory',
  'redis',
  'memcached',
  'sql',
  'file',
  'cookie',
  'hybrid',
] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** What `configFromEnv()` read: which backend, how to reach it, and the manager's own settings. */
export interface EnvConfig {
  storage: StorageKind;
  redis?: ResolvedRedisConfig;
  memcached?: ResolvedMemcachedConfig;
  database?: ResolvedSqlConfig;
  /** `SESSION_FALLBACK`: the backend used while the primary is down. */
  fallback?: StorageKind;
  idleTimeout?: number;
  maxSessionsPerUser?: number;
}

const STORAGE_ALIASES: Record<string, StorageKind> = {
  database: 'sql',
  postgres: 'sql',
  postgresql: 'sql',
  mysql: 'sql',
  mariadb: 'sql',
  sqlite: 'sql',
};

/** A backend name or alias (`database`, `postgres`, `sqlite`, …) as a `StorageKind`, or `ConfigError`. */
export function storageKind(field: string, raw: unknown): StorageKind {
  const value = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  const kind = STORAGE_ALIASES[value] ?? value;
  if ((STORAGE_KINDS as readonly string[]).includes(kind)) return kind as StorageKind;
  throw new ConfigError(
    field,
    `unknown backend ${JSON.stringify(raw)}; use one of ${STORAGE_KINDS.join(', ')}`,
  );
}

function envBoolean(field: string, raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
  throw new ConfigError(field, `must be true or false, got ${JSON.stringify(raw)}`);
}

/**
 * Reads `SESSION_STORAGE`, `SESSION_FALLBACK`, `REDIS_URL`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_DB`,
 * `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_SSL`, `MEMCACHED_SERVERS`, `DATABASE_URL`,
 * `SESSION_IDLE_TIMEOUT` and `MAX_SESSIONS_PER_USER`. Throws `ConfigError` naming the variable.
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): EnvConfig {
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const storage = storageKind('SESSION_STORAGE', get('SESSION_STORAGE') ?? 'memory');
  const config: EnvConfig = { storage };

  const fallback = get('SESSION_FALLBACK');
  if (fallback) config.fallback = storageKind('SESSION_FALLBACK', fallback);
  // The hybrid store puts a cache in front of SQL: its cache is Redis or Memcached when configured.
  const uses = (kind: StorageKind) => storage === kind || config.fallback === kind;

  if (uses('redis') || get('REDIS_URL') || get('REDIS_HOST')) {
    const redis: Record<string, unknown> = {};
    const envToField: [string, string][] = [
      ['REDIS_URL', 'url'],
      ['REDIS_HOST', 'host'],
      ['REDIS_PORT', 'port'],
      ['REDIS_DB', 'db'],
      ['REDIS_USERNAME', 'username'],
      ['REDIS_PASSWORD', 'password'],
    ];
    for (const [name, field] of envToField) {
      const value = get(name);
      if (value !== undefined) redis[field] = value;
    }
    const ssl = get('REDIS_SSL');
    if (ssl !== undefined) redis.tls = envBoolean('REDIS_SSL', ssl);
    config.redis = withEnvNames(() => resolveRedisConfig(redis), {
      'redis.url': 'REDIS_URL',
      'redis.host': 'REDIS_HOST',
      'redis.port': 'REDIS_PORT',
      'redis.db': 'REDIS_DB',
    });
  }
  const servers = get('MEMCACHED_SERVERS');
  if (uses('memcached') || servers) {
    config.memcached = withEnvNames(() => resolveMemcachedConfig(servers ? { servers } : {}), {
      'memcached.servers': 'MEMCACHED_SERVERS',
    });
  }
  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl || uses('sql') || storage === 'hybrid') {
    if (!databaseUrl)
      throw new ConfigError('DATABASE_URL', 'is required when SESSION_STORAGE uses a database');
    config.database = withEnvNames(() => resolveSqlConfig({ url: databaseUrl }), {
      'database.url': 'DATABASE_URL',
    });
  }
  const idle = get('SESSION_IDLE_TIMEOUT');
  if (idle !== undefined) {
    config.idleTimeout = withEnvNames(
      () => parseConfig(durationSchema(), idle, 'SESSION_IDLE_TIMEOUT'),
      {},
    );
  }
  const max = get('MAX_SESSIONS_PER_USER');
  if (max !== undefined) {
    config.maxSessionsPerUser = parseConfig(
      z.coerce
        .number({ message: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1'),
      max,
      'MAX_SESSIONS_PER_USER',
    );
  }
  return config;
}

/** Re-throws a ConfigError with the environment variable's name in place of the config field. */
function withEnvNames<T>(fn: () => T, names: Record<string, string>): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      // A nested field (memcached.servers.0) belongs to the variable named for its parent.
      const match = Object.keys(names).find(
        (field) => err.field === field || err.field.startsWith(`${field}.`),
      );
      if (match) throw new ConfigError(names[match]!, err.problem, { cause: err });
    }
    throw err;
  }
}

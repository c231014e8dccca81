/**
 * Configuration from environment variables: which backend (`SESSION_STORAGE`, with aliases such as
 * `postgres` or `sqlite`), how to reach it, and the manager settings an operator may set, under
 * Tessera's names and the reference's (`SESSION_TIMEOUT_MINUTES`, `REDIS_POOL_SIZE`,
 * `MEMCACHED_HOST`, …). A bad variable is a `ConfigError` naming the variable, not the config
 * field; an unknown or ignored one is a warning naming it (never its value).
 */
import { z } from 'zod';
import {
  durationSchema,
  MAX_DURATION_MS,
  MAX_TIMER_MS,
  parseConfig,
  type ResolvedMemcachedConfig,
  type ResolvedRedisConfig,
  type ResolvedSqlConfig,
  resolveMemcachedConfig,
  resolveRedisConfig,
  resolveSqlConfig,
} from './config.js';
import { parseDuration } from './duration.js';
import { envWarner, warnUnknownVariables } from './env-names.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

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
  /** `SESSION_IDLE_TIMEOUT`, or `SESSION_TIMEOUT_MINUTES` (ms). */
  idleTimeout?: number;
  maxSessionsPerUser?: number;
  /** `CLEANUP_INTERVAL_MINUTES` (ms). */
  cleanupInterval?: number;
}

export interface EnvConfigOptions {
  /**
   * Where warnings go: a variable Tessera does not read (`MEMCACHED_HOSTNAME`), or one it ignores
   * (`MEMCACHED_HOST` beside `MEMCACHED_SERVERS`). Each names the variable, never its value.
   * @default a Node process warning (`process.emitWarning`, code `TESSERA_ENV`), each once
   */
  logger?: Pick<Logger, 'warn'>;
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

/** A whole number of at least 1 (`max` at most), read from `name`. */
function envCount(name: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  return parseConfig(
    z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(max, `must be at most ${max}`),
    raw,
    name,
  );
}

/** Minutes, as the reference's `*_MINUTES` variables carry them, in ms (`max` ms at most). */
function envMinutes(name: string, raw: string, max: number): number {
  return envCount(name, raw, Math.floor(max / 60_000)) * 60_000;
}

/**
 * `REDIS_CONNECT_TIMEOUT` in ms: a bare number is seconds, as the reference's
 * `REDIS_CONNECT_TIMEOUT=10` means; a duration with its unit (`"500ms"`, `"10s"`) works too.
 */
function envSeconds(raw: string): number {
  const text = raw.trim();
  const ms = parseDuration(/^\d+$/.test(text) ? `${text}s` : text);
  if (ms === null)
    throw new ConfigError(
      'REDIS_CONNECT_TIMEOUT',
      `${JSON.stringify(raw)} is not a timeout (use seconds, e.g. 10, or a duration like "500ms")`,
    );
  return ms;
}

/**
 * Reads `SESSION_STORAGE`, `SESSION_FALLBACK`, `REDIS_URL`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_DB`,
 * `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_SSL`, `REDIS_POOL_SIZE`, `REDIS_CONNECT_TIMEOUT`,
 * `MEMCACHED_SERVERS`, `MEMCACHED_HOST`, `MEMCACHED_PORT`, `MEMCACHED_POOL_SIZE`, `DATABASE_URL`, `SESSION_IDLE_TIMEOUT`
 * (or `SESSION_TIMEOUT_MINUTES`), `CLEANUP_INTERVAL_MINUTES` and `MAX_SESSIONS_PER_USER`. Throws
 * `ConfigError` naming the variable. Warns (see `EnvConfigOptions.logger`) about each `SESSION_*`,
 * `REDIS_*` or `MEMCACHED_*` variable it does not know, naming the nearest known one, and about
 * each it ignores.
 */
export function configFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: EnvConfigOptions = {},
): EnvConfig {
  const warn = envWarner(options.logger);
  warnUnknownVariables(env, warn);
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const ignored = (names: string[], why: string) => {
    for (const variable of names.filter((n) => get(n) !== undefined))
      warn({ variable }, `tessera: ${variable} is ignored: ${why}`);
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
    const pool = get('REDIS_POOL_SIZE');
    if (pool !== undefined) redis.poolSize = envCount('REDIS_POOL_SIZE', pool, 1000);
    const connectTimeout = get('REDIS_CONNECT_TIMEOUT');
    if (connectTimeout !== undefined) redis.connectTimeout = envSeconds(connectTimeout);
    if (redis.url !== undefined)
      ignored(['REDIS_HOST', 'REDIS_PORT'], 'REDIS_URL names the host and port');
    config.redis = withEnvNames(() => resolveRedisConfig(redis), {
      'redis.url': 'REDIS_URL',
      'redis.host': 'REDIS_HOST',
      'redis.port': 'REDIS_PORT',
      'redis.db': 'REDIS_DB',
      'redis.connectTimeout': 'REDIS_CONNECT_TIMEOUT',
    });
  } else {
    const settings = ['PORT', 'DB', 'USERNAME', 'PASSWORD', 'SSL', 'POOL_SIZE', 'CONNECT_TIMEOUT'];
    ignored(
      settings.map((name) => `REDIS_${name}`),
      'no Redis is configured (set REDIS_URL or REDIS_HOST, or SESSION_STORAGE=redis)',
    );
  }
  const servers = get('MEMCACHED_SERVERS');
  const memcachedHost = get('MEMCACHED_HOST');
  if (uses('memcached') || servers || memcachedHost) {
    const memcached: Record<string, unknown> = {};
    if (servers) {
      memcached.servers = servers;
      ignored(['MEMCACHED_HOST', 'MEMCACHED_PORT'], 'MEMCACHED_SERVERS names the servers');
    } else {
      if (memcachedHost) memcached.host = memcachedHost.trim();
      const port = get('MEMCACHED_PORT');
      if (port !== undefined) memcached.port = port;
    }
    const pool = get('MEMCACHED_POOL_SIZE');
    if (pool !== undefined) memcached.poolSize = envCount('MEMCACHED_POOL_SIZE', pool, 1000);
    config.memcached = withEnvNames(() => resolveMemcachedConfig(memcached), {
      'memcached.servers': 'MEMCACHED_SERVERS',
      'memcached.host': 'MEMCACHED_HOST',
      'memcached.port': 'MEMCACHED_PORT',
    });
  } else {
    ignored(
      ['MEMCACHED_PORT', 'MEMCACHED_POOL_SIZE'],
      'no Memcached is configured (set MEMCACHED_SERVERS or MEMCACHED_HOST, or SESSION_STORAGE=memcached)',
    );
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
  const idleMinutes = get('SESSION_TIMEOUT_MINUTES');
  if (idleMinutes !== undefined) {
    const ms = envMinutes('SESSION_TIMEOUT_MINUTES', idleMinutes, MAX_DURATION_MS);
    // Both names set to different values: neither may silently win.
    if (config.idleTimeout !== undefined && config.idleTimeout !== ms)
      throw new ConfigError(
        'SESSION_TIMEOUT_MINUTES',
        `says ${ms} ms but SESSION_IDLE_TIMEOUT says ${config.idleTimeout} ms; set only one of them`,
      );
    config.idleTimeout = ms;
  }
  const max = get('MAX_SESSIONS_PER_USER');
  if (max !== undefined) config.maxSessionsPerUser = envCount('MAX_SESSIONS_PER_USER', max);
  const cleanup = get('CLEANUP_INTERVAL_MINUTES');
  if (cleanup !== undefined)
    config.cleanupInterval = envMinutes('CLEANUP_INTERVAL_MINUTES', cleanup, MAX_TIMER_MS);
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

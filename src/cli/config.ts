/**
 * Where the CLI's configuration comes from: the same environment variables as `configFromEnv()`
 * (plus `SESSION_KEY_PREFIX`, `SESSION_FILE_DIR`, `SESSION_COOKIE_SECRETS`), or a JSON file given
 * with `--config`. Both end as an `EnvConfig` and the store options the factory needs.
 */
import { readFileSync } from 'node:fs';
import {
  MEMCACHED_CONFIG_KNOWN_KEYS,
  type MemcachedConfig,
  REDIS_CONFIG_KNOWN_KEYS,
  type RedisConfig,
  resolveMemcachedConfig,
  resolveRedisConfig,
  resolveSqlConfig,
  SQL_CONFIG_KNOWN_KEYS,
  type SqlConfig,
} from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { configFromEnv, type EnvConfig, storageKind } from '../core/env-config.js';
import { ConfigError } from '../core/errors.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import { type StoreFromConfigOptions, storeOptionsFromEnv } from '../stores/from-config.js';

export interface CliConfig {
  env: EnvConfig;
  store: StoreFromConfigOptions;
  /** Where it came from, for messages: "environment" or the file's path. */
  source: string;
}

/** What a `--config` file may hold (the connection objects are checked as their configs). */
export interface CliConfigFile {
  storage?: string;
  fallback?: string;
  redis?: RedisConfig;
  memcached?: MemcachedConfig;
  database?: SqlConfig;
  idleTimeout?: string | number;
  prefix?: string;
  fileDir?: string;
  cookieSecrets?: string[];
}

/** The keys a `--config` file may hold; any other is an `UnknownOptionError`. */
export const CLI_CONFIG_KNOWN_KEYS = {
  storage: true,
  fallback: true,
  redis: true,
  memcached: true,
  database: true,
  idleTimeout: true,
  prefix: true,
  fileDir: true,
  cookieSecrets: true,
} as const satisfies KnownKeys<CliConfigFile>;

/**
 * Reads a `--config` file:
 * `{ "storage": "redis", "redis": { "url": "redis://…" }, "database": { "url": "sqlite:…" },
 *    "memcached": { "servers": ["host:11211"] }, "fallback": "sql", "prefix": "app:",
 *    "fileDir": "/var/sessions", "cookieSecrets": ["…"] }`.
 * The connection objects take the same fields as `RedisConfig`, `SqlConfig`, `MemcachedConfig`.
 */
export function configFromFile(path: string): CliConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const problem =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'file not found'
        : err instanceof SyntaxError
          ? `not valid JSON (${err.message})`
          : `cannot be read (${(err as Error).message})`;
    throw new ConfigError('--config', `${path}: ${problem}`, { cause: err });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError('--config', `${path}: must hold a JSON object`);
  const file = raw as Record<string, unknown>;
  const where = `the config file ${path}`;
  rejectUnknownKeys(where, file, CLI_CONFIG_KNOWN_KEYS);
  rejectUnknownKeys(where, file.redis, REDIS_CONFIG_KNOWN_KEYS, 'redis');
  rejectUnknownKeys(where, file.memcached, MEMCACHED_CONFIG_KNOWN_KEYS, 'memcached');
  rejectUnknownKeys(where, file.database, SQL_CONFIG_KNOWN_KEYS, 'database');
  const env: EnvConfig = { storage: storageKind('storage', file.storage ?? 'memory') };
  if (file.fallback !== undefined) env.fallback = storageKind('fallback', file.fallback);
  if (file.redis !== undefined) env.redis = resolveRedisConfig(file.redis as object);
  if (file.memcached !== undefined)
    env.memcached = resolveMemcachedConfig(file.memcached as object);
  if (file.database !== undefined) env.database = resolveSqlConfig(file.database as object);
  if ((env.storage === 'sql' || env.storage === 'hybrid') && !env.database)
    throw new ConfigError('database', `is required when storage is "${env.storage}"`);
  if (file.idleTimeout !== undefined) {
    const ms = parseDuration(file.idleTimeout as string | number);
    if (ms === null || ms <= 0) throw new ConfigError('idleTimeout', 'must be a duration');
    env.idleTimeout = ms;
  }
  const store: StoreFromConfigOptions = {};
  if (typeof file.prefix === 'string') store.prefix = file.prefix;
  if (typeof file.fileDir === 'string') store.filePath = file.fileDir;
  if (Array.isArray(file.cookieSecrets)) store.cookieSecrets = file.cookieSecrets.map(String);
  return { env, store, source: path };
}

/**
 * The configuration from `--config` when given, else from the environment; `note` prints a
 * warning line (an environment variable Tessera does not read or ignores).
 */
export function loadCliConfig(
  configPath: string | undefined,
  note: (line: string) => void = () => {},
): CliConfig {
  if (configPath) return configFromFile(configPath);
  const logger = { warn: (_fields: unknown, message?: string) => note(`warning: ${message}`) };
  return {
    env: configFromEnv(process.env, { logger }),
    store: storeOptionsFromEnv(),
    source: 'environment',
  };
}

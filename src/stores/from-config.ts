/**
 * Turns `configFromEnv()`'s result into a store. Each backend module is reached through a dynamic
 * `import()`, so an app configured for Redis never loads the SQL store, Kysely or a database driver
 * (and the reverse): the client libraries stay optional peer dependencies.
 */
import type { EnvConfig, StorageKind } from '../core/env-config.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type { RateLimitStore, SessionStore } from '../core/types.js';

/** What a store needs beyond what `configFromEnv()` reads. */
export interface StoreFromConfigOptions {
  /**
   * Namespace of every Redis / Memcached key, so several apps (or test runs) can share a server.
   * @default "tessera:"
   */
  prefix?: string;
  /** Folder of the file store; required when the storage is `file`. @default none */
  filePath?: string;
  /**
   * Sealing secrets of the cookie store (each at least 32 bytes; the first seals). Required when
   * the storage is `cookie`. @default none
   */
  cookieSecrets?: string[];
  /**
   * Run the SQL migrations before the first operation. Tools that must not change a database
   * (the CLI's `doctor`, `stats`) turn it off.
   * @default true
   */
  migrate?: boolean;
  /** Handed to every store created. @default silent */
  logger?: Logger;
}

/** The keys of `StoreFromConfigOptions`; any other is an `UnknownOptionError`. */
export const STORE_FROM_CONFIG_KNOWN_KEYS = {
  prefix: true,
  filePath: true,
  cookieSecrets: true,
  migrate: true,
  logger: true,
} as const satisfies KnownKeys<StoreFromConfigOptions>;

/**
 * Reads the extra variables a store may need: `SESSION_KEY_PREFIX`, `SESSION_FILE_DIR` and
 * `SESSION_COOKIE_SECRETS` (comma-separated).
 */
export function storeOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): StoreFromConfigOptions {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const options: StoreFromConfigOptions = {};
  const prefix = get('SESSION_KEY_PREFIX');
  if (prefix) options.prefix = prefix;
  const dir = get('SESSION_FILE_DIR');
  if (dir) options.filePath = dir;
  const secrets = get('SESSION_COOKIE_SECRETS');
  if (secrets)
    options.cookieSecrets = secrets
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return options;
}

/** `host:port`, with an IPv6 host in brackets so the port stays unambiguous. */
function serverAddress(s: { host: string; port: number }): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

function required<T>(value: T | undefined, field: string, problem: string): T {
  if (value === undefined) throw new ConfigError(field, problem);
  return value;
}

async function createOne(
  kind: StorageKind,
  config: EnvConfig,
  options: StoreFromConfigOptions,
): Promise<SessionStore> {
  const { logger, prefix } = options;
  switch (kind) {
    case 'memory': {
      const { createMemoryStore } = await import('./memory.js');
      return createMemoryStore();
    }
    case 'redis': {
      const { createRedisStore } = await import('./redis/index.js');
      return createRedisStore({ ...(config.redis ?? {}), prefix, logger });
    }
    case 'memcached': {
      const { createMemcachedStore } = await import('./memcached/index.js');
      const servers = config.memcached?.servers.map(serverAddress);
      return createMemcachedStore({
        servers,
        poolSize: config.memcached?.poolSize,
        timeout: config.memcached?.timeout,
        prefix,
        logger,
      });
    }
    case 'sql': {
      const database = required(
        config.database,
        'DATABASE_URL',
        'is required when SESSION_STORAGE uses a database',
      );
      const { createSqlStore } = await import('./sql/index.js');
      return createSqlStore({
        url: database.dialect === 'sqlite' ? `sqlite:${database.url}` : database.url,
        table: database.table,
        poolSize: database.poolSize,
        timeout: database.timeout,
        migrate: options.migrate ?? true,
        logger,
      });
    }
    case 'file': {
      const path = required(
        options.filePath,
        'SESSION_FILE_DIR',
        'is required when SESSION_STORAGE is "file" (the folder that holds the sessions)',
      );
      const { createFileStore } = await import('./file.js');
      return createFileStore({ path, logger });
    }
    case 'cookie': {
      const secrets = required(
        options.cookieSecrets,
        'SESSION_COOKIE_SECRETS',
        'is required when SESSION_STORAGE is "cookie" (comma-separated secrets of 32+ bytes)',
      );
      const { createCookieStore } = await import('./cookie/index.js');
      // Server-side, the cookie store is an empty jar: nothing to list, count or clean.
      return createCookieStore({ secrets, logger }).sessionStore();
    }
    case 'hybrid': {
      // The cache is the configured Redis or Memcached, else memory; the database is the truth.
      const cacheKind: StorageKind = config.redis
        ? 'redis'
        : config.memcached
          ? 'memcached'
          : 'memory';
      const database = await createOne('sql', config, options);
      const cache = await createOne(cacheKind, config, options).catch(async (err) => {
        await database.close();
        throw err;
      });
      const { createHybridStore } = await import('./hybrid.js');
      return createHybridStore({ cache, database, logger });
    }
  }
}

/**
 * The session store `config` describes, with `SESSION_FALLBACK` wrapped around it when set (the
 * fallback serves while the primary is unreachable). Throws `ConfigError` naming the variable that
 * is missing or wrong; a missing client library is a `MissingDependencyError` from the store.
 */
export async function createStoreFromConfig(
  config: EnvConfig,
  options: StoreFromConfigOptions = {},
): Promise<SessionStore> {
  rejectUnknownKeys('createStoreFromConfig()', options, STORE_FROM_CONFIG_KNOWN_KEYS);
  const primary = await createOne(config.storage, config, options);
  if (!config.fallback || config.fallback === config.storage) return primary;
  try {
    const secondary = await createOne(config.fallback, config, options);
    const { createFallbackStore } = await import('./fallback.js');
    return createFallbackStore({ primary, secondary, logger: options.logger });
  } catch (err) {
    await primary.close();
    throw err;
  }
}

/**
 * A rate-limit store that shares counters between processes when the configuration names a shared
 * server (Redis, else Memcached), or `null` when the in-process default is the right choice. When
 * the sessions survive that server's outage (`SESSION_FALLBACK`, or the hybrid store), so do the
 * counters: they fall back to in-process ones while the server is unreachable.
 */
export async function createRateLimitStoreFromConfig(
  config: EnvConfig,
  options: Pick<StoreFromConfigOptions, 'prefix' | 'logger'> = {},
): Promise<RateLimitStore | null> {
  rejectUnknownKeys('createRateLimitStoreFromConfig()', options, {
    prefix: true,
    logger: true,
  } satisfies KnownKeys<Pick<StoreFromConfigOptions, 'prefix' | 'logger'>>);
  const shared = await sharedRateLimitStore(config, options);
  if (!shared) return null;
  const survives =
    (config.fallback !== undefined && config.fallback !== config.storage) ||
    config.storage === 'hybrid';
  if (!survives) return shared;
  const [{ createFallbackRateLimitStore }, { createMemoryRateLimitStore }] = await Promise.all([
    import('./fallback.js'),
    import('./memory.js'),
  ]);
  return createFallbackRateLimitStore({
    primary: shared,
    secondary: createMemoryRateLimitStore(),
    logger: options.logger,
  });
}

async function sharedRateLimitStore(
  config: EnvConfig,
  options: Pick<StoreFromConfigOptions, 'prefix' | 'logger'>,
): Promise<RateLimitStore | null> {
  const { prefix, logger } = options;
  const uses = (kind: StorageKind) =>
    config.storage === kind || config.fallback === kind || config.storage === 'hybrid';
  if (config.redis && uses('redis')) {
    const { createRedisRateLimitStore } = await import('./redis/index.js');
    return createRedisRateLimitStore({ ...config.redis, prefix, logger });
  }
  if (config.memcached && uses('memcached')) {
    const { createMemcachedRateLimitStore } = await import('./memcached/index.js');
    return createMemcachedRateLimitStore({
      servers: config.memcached.servers.map(serverAddress),
      timeout: config.memcached.timeout,
      prefix: prefix === undefined ? undefined : `${prefix}rl:`,
    });
  }
  return null;
}

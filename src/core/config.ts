/**
 * Configuration schemas, checked when an object is built: a bad value throws a `ConfigError` naming
 * the field and what is wrong with it. Backend connection configs (`RedisConfig`,
 * `MemcachedConfig`, `SqlConfig`) live here so `configFromEnv()` (env-config.ts) and every store
 * read them alike.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import type { KnownKeys } from './strict-options.js';

/** Runs a schema and turns its first issue into a `ConfigError` naming the field. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [root, ...issue.path.map(String)].filter(Boolean).join('.') || '(options)';
  throw new ConfigError(path, issue.message, { cause: result.error });
}

/**
 * The longest duration accepted anywhere: ten years. Expiry times stay far inside what `Date`, SQL
 * BIGINT and Redis can hold, so a typo such as `"999999999999d"` fails at once instead of later.
 */
export const MAX_DURATION_MS = 10 * 365 * 86_400_000;
/** The longest delay a Node timer can wait (about 24.8 days); past it Node silently fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function tooLong(ms: number, max: number): string | null {
  if (ms <= max) return null;
  return max === MAX_TIMER_MS
    ? `must be at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest a timer can wait`
    : `must be at most ${max} ms (10 years)`;
}

/** `ms` when there is no `problem`; otherwise the problem becomes the schema's issue. */
function acceptMs(ctx: z.RefinementCtx, ms: number, problem: string | null): number {
  if (problem === null) return ms;
  ctx.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
}

/**
 * A duration in ms or a string like "30m"; `allowZero` decides whether 0 is valid, `max` the
 * longest accepted (default ten years; use `MAX_TIMER_MS` for a value that drives a timer).
 */
export function durationSchema(options: { allowZero?: boolean; max?: number } = {}) {
  const max = options.max ?? MAX_DURATION_MS;
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    const problem =
      ms === null
        ? `${JSON.stringify(value)} is not a duration (use milliseconds or a string like "30m", "12h", "60s")`
        : ms === 0 && !options.allowZero
          ? 'must be greater than zero'
          : tooLong(ms, max);
    return acceptMs(ctx, ms ?? 0, problem);
  });
}

/** A duration, or `false` to turn the feature off; `max` as for `durationSchema`. */
export function durationOrOffSchema(options: { max?: number } = {}) {
  const max = options.max ?? MAX_DURATION_MS;
  return z.union([z.number(), z.string(), z.boolean()]).transform((value, ctx): number | false => {
    if (value === false) return false;
    const ms = typeof value === 'boolean' ? null : parseDuration(value);
    const problem =
      ms === null || ms === 0
        ? `${JSON.stringify(value)} is not a duration (use milliseconds, a string like "12h", or false to turn it off)`
        : tooLong(ms, max);
    return acceptMs(ctx, ms ?? 0, problem);
  });
}

export const portSchema = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be a port between 1 and 65535')
  .max(65535, 'must be a port between 1 and 65535');

function urlWithProtocols(protocols: string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
}

/** The connection configs' defaults, declared once (the `@default` tags below say the same). */
export const CONNECTION_DEFAULTS = {
  redis: { host: '127.0.0.1', port: 6379, db: 0, tls: false, poolSize: 1, connectTimeout: 2000 },
  memcached: { host: '127.0.0.1', port: 11211, poolSize: 1, timeout: 2000 },
  sql: { table: 'tessera_sessions', poolSize: 10, timeout: 5000 },
} as const;

// ---- Redis ----------------------------------------------------------------------------------------

/** How to reach Redis. Either `url`, or the separate fields; when both are given, `url` wins. */
export interface RedisConfig {
  /** `redis://[user:pass@]host:port/db` or `rediss://…` for TLS. Wins over the fields below. */
  url?: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default 6379 */
  port?: number;
  /** Database number. @default 0 */
  db?: number;
  /** ACL user name. */
  username?: string;
  password?: string;
  /** Connect with TLS. @default false */
  tls?: boolean;
  /** Connections kept open. @default 1 */
  poolSize?: number;
  /** How long to wait for a connection or a reply before `StoreUnavailableError`. @default 2000 ms */
  connectTimeout?: number | string;
}

/** A `RedisConfig` with the URL taken apart and defaults filled in. */
export interface ResolvedRedisConfig {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  poolSize: number;
  connectTimeout: number;
}

/** The keys of a `RedisConfig`: how to reach Redis. */
export const REDIS_CONFIG_KNOWN_KEYS = {
  url: true,
  host: true,
  port: true,
  db: true,
  username: true,
  password: true,
  tls: true,
  poolSize: true,
  connectTimeout: true,
} as const satisfies KnownKeys<RedisConfig>;

const REDIS = CONNECTION_DEFAULTS.redis;

export const redisConfigSchema = z
  .object({
    url: urlWithProtocols(['redis:', 'rediss:']).optional(),
    host: z.string().min(1, 'must not be empty').optional(),
    port: portSchema.optional(),
    db: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: z.boolean().optional(),
    poolSize: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1000)
      .optional(),
    connectTimeout: durationSchema({ max: MAX_TIMER_MS }).optional(),
  })
  .transform((c): ResolvedRedisConfig => {
    const base: ResolvedRedisConfig = {
      host: c.host ?? REDIS.host,
      port: c.port ?? REDIS.port,
      db: c.db ?? REDIS.db,
      username: c.username,
      password: c.password,
      tls: c.tls ?? REDIS.tls,
      poolSize: c.poolSize ?? REDIS.poolSize,
      connectTimeout: c.connectTimeout ?? REDIS.connectTimeout,
    };
    if (!c.url) return base;
    const url = new URL(c.url);
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : base.db;
    return {
      ...base,
      host: url.hostname.replace(/^\[|\]$/g, '') || base.host,
      port: url.port ? Number(url.port) : REDIS.port,
      db: Number.isInteger(db) && db >= 0 ? db : base.db,
      username: url.username ? decodeURIComponent(url.username) : base.username,
      password: url.password ? decodeURIComponent(url.password) : base.password,
      tls: url.protocol === 'rediss:' || base.tls,
    };
  });

export function resolveRedisConfig(config: RedisConfig): ResolvedRedisConfig {
  return parseConfig(redisConfigSchema, config, 'redis');
}

// ---- Memcached -------------------------------------------------------------------------------------

/** How to reach Memcached. Either `servers`, or `host`/`port`; when both are given, `servers` wins. */
export interface MemcachedConfig {
  /** `"host:port"` entries (or one comma-separated string). Wins over host/port. */
  servers?: string[] | string;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default 11211 */
  port?: number;
  /** Connections per server. @default 1 */
  poolSize?: number;
  /** Connection and reply timeout. @default 2000 ms */
  timeout?: number | string;
}

export interface ResolvedMemcachedConfig {
  servers: { host: string; port: number }[];
  poolSize: number;
  timeout: number;
}

/** The keys of a `MemcachedConfig`: which servers. */
export const MEMCACHED_CONFIG_KNOWN_KEYS = {
  servers: true,
  host: true,
  port: true,
  poolSize: true,
  timeout: true,
} as const satisfies KnownKeys<MemcachedConfig>;

const MEMCACHED = CONNECTION_DEFAULTS.memcached;

const serverSchema = z.string().transform((value, ctx) => {
  const match = value.trim().match(/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  const port = match?.[2] ? Number(match[2]) : MEMCACHED.port;
  if (!match || port < 1 || port > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not "host:port" with a port 1-65535`,
    });
    return z.NEVER;
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
});

export const memcachedConfigSchema = z
  .object({
    servers: z
      .union([z.array(z.string()), z.string()])
      .transform((s) => (Array.isArray(s) ? s : s.split(',')).map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(serverSchema).min(1, 'must name at least one server'))
      .optional(),
    host: z.string().min(1, 'must not be empty').optional(),
    port: portSchema.optional(),
    poolSize: z.number().int().min(1, 'must be at least 1').optional(),
    timeout: durationSchema({ max: MAX_TIMER_MS }).optional(),
  })
  .transform(
    (c): ResolvedMemcachedConfig => ({
      servers: c.servers ?? [{ host: c.host ?? MEMCACHED.host, port: c.port ?? MEMCACHED.port }],
      poolSize: c.poolSize ?? MEMCACHED.poolSize,
      timeout: c.timeout ?? MEMCACHED.timeout,
    }),
  );

export function resolveMemcachedConfig(config: MemcachedConfig): ResolvedMemcachedConfig {
  return parseConfig(memcachedConfigSchema, config, 'memcached');
}

// ---- SQL -------------------------------------------------------------------------------------------

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

/** How to reach the SQL database. `url` (`postgres://`, `mysql://`, `sqlite:path`) or `dialect` + fields. */
export interface SqlConfig {
  /** `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…`, `sqlite:path/to/file.db` or `sqlite::memory:`. */
  url?: string;
  dialect?: SqlDialect;
  /** SQLite file path. */
  filename?: string;
  /** Table that holds sessions; a plain identifier. @default "tessera_sessions" */
  table?: string;
  /** Pool size (PostgreSQL, MySQL). @default 10 */
  poolSize?: number;
  /** Connection and query timeout. @default 5000 ms */
  timeout?: number | string;
}

export interface ResolvedSqlConfig {
  dialect: SqlDialect;
  /** Connection URL for PostgreSQL/MySQL; file path for SQLite. */
  url: string;
  table: string;
  poolSize: number;
  timeout: number;
}

/** The keys of a `SqlConfig`: which database. */
export const SQL_CONFIG_KNOWN_KEYS = {
  url: true,
  dialect: true,
  filename: true,
  table: true,
  poolSize: true,
  timeout: true,
} as const satisfies KnownKeys<SqlConfig>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const sqlConfigSchema = z
  .object({
    url: z.string().min(1, 'must not be empty').optional(),
    dialect: z
      .enum(['postgres', 'mysql', 'sqlite'], { message: 'must be postgres, mysql or sqlite' })
      .optional(),
    filename: z.string().min(1, 'must not be empty').optional(),
    table: z
      .string()
      .regex(
        IDENTIFIER,
        'must be a plain identifier (letters, digits, underscore; not starting with a digit)',
      )
      .optional(),
    poolSize: z.number().int().min(1, 'must be at least 1').optional(),
    timeout: durationSchema({ max: MAX_TIMER_MS }).optional(),
  })
  .transform((c, ctx): ResolvedSqlConfig => {
    const common = {
      table: c.table ?? CONNECTION_DEFAULTS.sql.table,
      poolSize: c.poolSize ?? CONNECTION_DEFAULTS.sql.poolSize,
      timeout: c.timeout ?? CONNECTION_DEFAULTS.sql.timeout,
    };
    if (c.url) {
      const lower = c.url.toLowerCase();
      if (lower.startsWith('sqlite:'))
        return {
          ...common,
          dialect: 'sqlite',
          url: c.url.slice('sqlite:'.length).replace(/^\/\//, ''),
        };
      if (/^postgres(ql)?:\/\//.test(lower)) return { ...common, dialect: 'postgres', url: c.url };
      if (/^(mysql|mariadb):\/\//.test(lower))
        return { ...common, dialect: 'mysql', url: c.url.replace(/^mariadb:/i, 'mysql:') };
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'must start with postgres://, mysql://, mariadb:// or sqlite:',
      });
      return z.NEVER;
    }
    if (c.dialect === 'sqlite' || (!c.dialect && c.filename)) {
      return { ...common, dialect: 'sqlite', url: c.filename ?? ':memory:' };
    }
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'is required for postgres and mysql (or give dialect "sqlite" with a filename)',
    });
    return z.NEVER;
  });

export function resolveSqlConfig(config: SqlConfig): ResolvedSqlConfig {
  return parseConfig(sqlConfigSchema, config, 'database');
}

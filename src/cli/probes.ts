/**
 * Direct looks at the backend servers for `tessera doctor` and `tessera migrate`: server versions,
 * round-trip latency and the SQL schema version already applied. Each probe opens its own short
 * connection with the same driver the store uses (loaded lazily) and never writes anything.
 * Failures come back as `StoreUnavailableError` naming the address, never a URL with a password.
 */
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import type {
  ResolvedMemcachedConfig,
  ResolvedRedisConfig,
  ResolvedSqlConfig,
} from '../core/config.js';
import { MissingDependencyError, StoreUnavailableError } from '../core/errors.js';

export interface ServerProbe {
  /** The server's own version string, e.g. "7.2.4" or "PostgreSQL 16.3". */
  version: string;
  /** Median of a few round trips of a trivial command, in ms. */
  latencyMs: number;
  /** Where it was reached (host:port or a file path). */
  address: string;
}

export interface SqlProbe extends ServerProbe {
  /** Migrations applied to the session table (0: none, `tessera migrate` creates it). */
  schemaVersion: number;
}

const ROUND_TRIPS = 5;

async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]! * 100) / 100;
}

async function load<T>(name: string, feature: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    throw new MissingDependencyError(name, feature, { cause });
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] };
  // AggregateError (a host resolving to IPv4 and IPv6) carries the useful message inside.
  const first = Array.isArray(e?.errors) && e.errors.length ? errorText(e.errors[0]) : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : first;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const text = message ?? code ?? String(err);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}

/** `host:port` of a server URL, without credentials. */
function urlAddress(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || defaultPort}`;
  } catch {
    return 'the configured server';
  }
}

export function redisAddress(config: ResolvedRedisConfig): string {
  return config.host.includes(':')
    ? `[${config.host}]:${config.port}`
    : `${config.host}:${config.port}`;
}

export async function probeRedis(config: ResolvedRedisConfig): Promise<ServerProbe> {
  const address = redisAddress(config);
  const redis = await load<typeof import('redis')>('redis', 'tessera doctor (Redis)');
  const client = redis.createClient({
    socket: {
      host: config.host,
      port: config.port,
      connectTimeout: config.connectTimeout,
      reconnectStrategy: false,
      ...(config.tls ? { tls: true as const, servername: config.host } : {}),
    },
    username: config.username,
    password: config.password,
    database: config.db,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const valkey = /valkey_version:(\S+)/.exec(info)?.[1];
    const latencyMs = await median(() => client.ping());
    return { version: valkey ? `Valkey ${valkey}` : version, latencyMs, address };
  } catch (err) {
    throw new StoreUnavailableError('redis', address, errorText(err), { cause: err });
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

/** The server's `version` reply over the memcached text protocol. */
export async function probeMemcached(config: ResolvedMemcachedConfig): Promise<ServerProbe[]> {
  return Promise.all(
    config.servers.map(async ({ host, port }) => {
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      const socket = new Socket();
      socket.setTimeout(config.timeout);
      try {
        await new Promise<void>((done, fail) => {
          socket.once('error', fail);
          socket.once('timeout', () => fail(new Error(`no answer within ${config.timeout} ms`)));
          socket.connect(port, host, done);
        });
        const ask = () =>
          new Promise<string>((done, fail) => {
            let reply = '';
            const onData = (chunk: Buffer) => {
              reply += chunk.toString('latin1');
              if (reply.endsWith('\r\n')) {
                socket.off('data', onData);
                done(reply.trim());
              }
            };
            socket.on('data', onData);
            socket.once('error', fail);
            socket.write('version\r\n');
          });
        const reply = await ask();
        const latencyMs = await median(ask);
        return { version: reply.replace(/^VERSION /, ''), latencyMs, address };
      } catch (err) {
        throw new StoreUnavailableError('memcached', address, errorText(err), { cause: err });
      } finally {
        socket.destroy();
      }
    }),
  );
}

interface SqlConnection {
  address: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Whether an error means "no such table". */
  missingTable(err: unknown): boolean;
  close(): Promise<void>;
}

async function connectSql(config: ResolvedSqlConfig): Promise<SqlConnection | null> {
  if (config.dialect === 'sqlite') {
    const file = sqliteFile(config);
    const memory = file === null;
    const path = file ?? ':memory:';
    // Opening a missing file would create it: a probe must not.
    if (!memory && !existsSync(path)) return null;
    const { default: Database } = await load<{ default: typeof import('better-sqlite3') }>(
      'better-sqlite3',
      'tessera doctor (SQLite)',
    );
    let db: InstanceType<typeof Database>;
    try {
      db = new Database(path, {
        readonly: !memory,
        fileMustExist: !memory,
        timeout: config.timeout,
      });
    } catch (err) {
      throw new StoreUnavailableError('sql', path, errorText(err), { cause: err });
    }
    return {
      address: path,
      query: async (sql) => db.prepare(sql).all() as Record<string, unknown>[],
      missingTable: (err) => /no such table/i.test(String((err as Error)?.message)),
      close: async () => {
        db.close();
      },
    };
  }
  if (config.dialect === 'postgres') {
    const address = urlAddress(config.url, 5432);
    const { default: pg } = await load<{ default: typeof import('pg') }>(
      'pg',
      'tessera doctor (PostgreSQL)',
    );
    const client = new pg.Client({
      connectionString: config.url,
      connectionTimeoutMillis: config.timeout,
      query_timeout: config.timeout,
    });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw new StoreUnavailableError('sql', address, errorText(err), { cause: err });
    }
    return {
      address,
      query: async (sql) => (await client.query(sql)).rows,
      missingTable: (err) => (err as { code?: string })?.code === '42P01',
      close: () => client.end(),
    };
  }
  const address = urlAddress(config.url, 3306);
  const mysql = await load<typeof import('mysql2/promise')>(
    'mysql2/promise',
    'tessera doctor (MySQL)',
  );
  let connection: Awaited<ReturnType<typeof mysql.createConnection>>;
  try {
    connection = await mysql.createConnection({ uri: config.url, connectTimeout: config.timeout });
  } catch (err) {
    throw new StoreUnavailableError('sql', address, errorText(err), { cause: err });
  }
  return {
    address,
    query: async (sql) => (await connection.query(sql))[0] as Record<string, unknown>[],
    missingTable: (err) => (err as { code?: string })?.code === 'ER_NO_SUCH_TABLE',
    close: () => connection.end(),
  };
}

const VERSION_QUERY = {
  postgres: 'select version() as v',
  mysql: 'select version() as v',
  sqlite: 'select sqlite_version() as v',
} as const;

/**
 * Version, latency and applied schema version of the configured database, or `null` for an SQLite
 * file that does not exist yet (`tessera migrate` creates it).
 */
export async function probeSql(config: ResolvedSqlConfig): Promise<SqlProbe | null> {
  const conn = await connectSql(config);
  if (!conn) return null;
  try {
    const run = async (sql: string) => {
      try {
        return await conn.query(sql);
      } catch (err) {
        if (conn.missingTable(err)) throw err;
        throw new StoreUnavailableError('sql', conn.address, errorText(err), { cause: err });
      }
    };
    const raw = String((await run(VERSION_QUERY[config.dialect]))[0]?.v ?? 'unknown');
    // PostgreSQL answers "PostgreSQL 16.3 (Debian …) on x86_64…": keep the name and number.
    const version =
      config.dialect === 'postgres'
        ? (/^PostgreSQL \S+/.exec(raw)?.[0] ?? raw)
        : config.dialect === 'sqlite'
          ? `SQLite ${raw}`
          : /mariadb/i.test(raw)
            ? `MariaDB ${raw.replace(/-MariaDB.*$/i, '')}`
            : `MySQL ${raw}`;
    const latencyMs = await median(() => run('select 1'));
    let schemaVersion = 0;
    try {
      const rows = await conn.query(
        `select max(version) as v from ${quote(config, `${config.table}_migrations`)}`,
      );
      schemaVersion = Number(rows[0]?.v ?? 0);
    } catch (err) {
      if (!conn.missingTable(err))
        throw new StoreUnavailableError('sql', conn.address, errorText(err), { cause: err });
    }
    return { version, latencyMs, address: conn.address, schemaVersion };
  } finally {
    await conn.close().catch(() => {});
  }
}

function quote(config: ResolvedSqlConfig, name: string): string {
  // The table name is validated as a plain identifier by the configuration schema.
  return config.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/**
 * Whether the session table exists: `true`, `false`, or `null` for an SQLite file that does not
 * exist (the probe never creates it). Reads nothing but the table's shape.
 */
export async function sessionTableExists(config: ResolvedSqlConfig): Promise<boolean | null> {
  const conn = await connectSql(config);
  if (!conn) return null;
  try {
    await conn.query(`select 1 from ${quote(config, config.table)} where 1 = 0`);
    return true;
  } catch (err) {
    if (conn.missingTable(err)) return false;
    throw new StoreUnavailableError('sql', conn.address, errorText(err), { cause: err });
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Where an SQL configuration points, for messages: `sqlite /abs/file` or `postgres host:port`. */
export function sqlLocation(config: ResolvedSqlConfig): string {
  if (config.dialect === 'sqlite') return `sqlite ${sqliteFile(config) ?? ':memory:'}`;
  return `${config.dialect} ${urlAddress(config.url, config.dialect === 'postgres' ? 5432 : 3306)}`;
}

/** The absolute path of an SQLite file, or `null` for an in-memory database. */
export function sqliteFile(config: ResolvedSqlConfig): string | null {
  return config.url === ':memory:' || config.url === '' ? null : resolve(config.url);
}

/** Migrations applied so far (0 when the table or the SQLite file does not exist yet). */
export async function appliedSchemaVersion(config: ResolvedSqlConfig): Promise<number> {
  return (await probeSql(config))?.schemaVersion ?? 0;
}

/** The number of migrations this version of Tessera ships for the dialect. */
export async function latestSchemaVersion(dialect: ResolvedSqlConfig['dialect']): Promise<number> {
  const { schemaSql } = await import('../stores/sql/index.js');
  return schemaSql(dialect).match(/^-- version \d+/gm)?.length ?? 0;
}

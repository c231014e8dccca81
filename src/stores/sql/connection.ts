/**
 * The SQL store's connection: opening it (from a URL, or a pool, database or Kysely instance the
 * caller owns), detecting a caller's dialect, migrating before the first operation, and running
 * every operation under the store's deadline with driver errors turned into typed errors.
 */
import {
  Kysely,
  MysqlAdapter,
  MysqlDialect,
  type MysqlPool,
  PostgresAdapter,
  PostgresDialect,
  type PostgresPool,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
} from 'kysely';
import type { SqlDialect } from '../../core/config.js';
import { ConfigError, StoreError, StoreUnavailableError, TesseraError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { withDeadline } from '../deadline.js';
import {
  type DialectSpec,
  type OpenedDialect,
  SQL_STORE_NAME,
  type TableNames,
} from './dialect.js';
import { DIALECTS } from './dialects/index.js';
import { prepareSqlite } from './dialects/sqlite.js';
import { type Db, runMigrations, TableNamePlugin, type Tables } from './schema.js';

/** An existing connection the caller owns: the store uses it and leaves it open on `close()`. */
export type SqlHandle =
  | { dialect: 'postgres'; pool: PostgresPool }
  | { dialect: 'mysql'; pool: MysqlPool }
  | { dialect: 'sqlite'; database: SqliteDatabase }
  /** A Kysely instance on any of the three dialects (detected from its adapter). */
  // biome-ignore lint/suspicious/noExplicitAny: a caller's Kysely instance may have any schema type
  | { kysely: Kysely<any> };

export function isHandle(options: object): options is SqlHandle {
  return 'kysely' in options || 'pool' in options || 'database' in options;
}

// biome-ignore lint/suspicious/noExplicitAny: only the adapter is read
function detectDialect(db: Kysely<any>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new ConfigError('kysely', 'must use the PostgreSQL, MySQL or SQLite dialect');
}

export interface SqlConnectionSettings {
  /** The caller's connection, or `undefined` to open one from `url`. */
  handle: SqlHandle | undefined;
  /** The dialect of `url` (ignored with a handle, which says or shows its own). */
  dialect: SqlDialect;
  /** Connection URL (PostgreSQL, MySQL) or file path (SQLite). */
  url: string;
  poolSize: number;
  /** Deadline of every operation, ms. */
  timeout: number;
  names: TableNames;
  /** Migrate before the first operation. */
  autoMigrate: boolean;
  logger: Logger;
}

/** One store's connection to its database. */
export interface SqlConnection {
  readonly dialect: SqlDialect;
  readonly spec: DialectSpec;
  /** Identifies the SQLite database file, so instances on one file share a write lock. */
  readonly fileKey: unknown;
  readonly closed: boolean;
  /** The schema version the database is at after migrating. */
  readonly schemaVersion: number;
  /** Runs one store operation: connected and migrated, typed errors, never longer than `timeout`. */
  op<T>(operation: string, fn: (conn: Db) => Promise<T>): Promise<T>;
  /** Creates or upgrades the tables now. */
  migrate(): Promise<void>;
  /** Ends the pool or database, only when the store opened it. */
  close(): Promise<void>;
}

function hostAndPort(url: string, dialect: SqlDialect): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 'default'}`;
  } catch {
    return dialect;
  }
}

export function openSqlConnection(settings: SqlConnectionSettings): SqlConnection {
  const { handle, timeout, names, autoMigrate, logger } = settings;
  const dialect: SqlDialect =
    handle && 'kysely' in handle
      ? detectDialect(handle.kysely)
      : handle
        ? handle.dialect
        : settings.dialect;
  const spec = DIALECTS[dialect];
  const plugin = new TableNamePlugin(names);

  let address = handle
    ? `${dialect} (caller's connection)`
    : dialect === 'sqlite'
      ? settings.url
      : hostAndPort(settings.url, dialect);
  let db: Db | undefined;
  let owned = false;
  let fileKey: unknown;
  let opening: Promise<Db> | undefined;
  let migrated: Promise<void> | undefined;
  let schemaVersion = 0;
  let closed = false;

  async function connect(): Promise<Db> {
    if (db) return db;
    if (handle && 'kysely' in handle) {
      fileKey = handle.kysely;
      db = (handle.kysely as unknown as Db).withPlugin(plugin);
      return db;
    }
    let opened: OpenedDialect;
    if (handle) {
      if (handle.dialect === 'sqlite') {
        prepareSqlite(handle.database as { pragma?(s: string): unknown }, timeout);
        const file = (handle.database as { name?: unknown }).name;
        opened = {
          dialect: new SqliteDialect({ database: handle.database }),
          address: typeof file === 'string' ? file : 'sqlite',
          fileKey: typeof file === 'string' && file !== ':memory:' ? file : handle.database,
        };
      } else if (handle.dialect === 'postgres') {
        opened = { dialect: new PostgresDialect({ pool: handle.pool }), address };
      } else {
        opened = { dialect: new MysqlDialect({ pool: handle.pool }), address };
      }
    } else {
      opened = await spec.open(settings.url, { poolSize: settings.poolSize, timeout });
      owned = true;
    }
    address = opened.address;
    fileKey = opened.fileKey;
    db = new Kysely<Tables>({ dialect: opened.dialect, plugins: [plugin] });
    return db;
  }

  async function migrateOn(conn: Db): Promise<void> {
    schemaVersion = await runMigrations(conn, spec, names, logger);
  }

  /** The connection, migrated. A failure is not cached: the next operation tries again. */
  async function ready(): Promise<Db> {
    if (closed) throw new StoreError(SQL_STORE_NAME, 'the store is closed');
    opening ??= connect().catch((err) => {
      opening = undefined;
      throw err;
    });
    const conn = await opening;
    if (autoMigrate) {
      migrated ??= migrateOn(conn).catch((err) => {
        migrated = undefined;
        throw err;
      });
      await migrated;
    }
    return conn;
  }

  function typed(err: unknown, operation: string): TesseraError {
    if (err instanceof TesseraError) return err;
    if (spec.isUnavailable(err))
      return new StoreUnavailableError(SQL_STORE_NAME, address, `${operation} failed`, {
        cause: err,
      });
    return new StoreError(SQL_STORE_NAME, `${operation} failed`, { cause: err });
  }

  async function op<T>(operation: string, fn: (conn: Db) => Promise<T>): Promise<T> {
    try {
      return await withDeadline(
        timeout,
        async () => fn(await ready()),
        () =>
          new StoreUnavailableError(
            SQL_STORE_NAME,
            address,
            `${operation} got no answer within ${timeout} ms`,
          ),
      );
    } catch (err) {
      throw typed(err, operation);
    }
  }

  return {
    dialect,
    spec,
    get fileKey() {
      return fileKey;
    },
    get closed() {
      return closed;
    },
    get schemaVersion() {
      return schemaVersion;
    },
    op,
    async migrate() {
      await op('migrate', async (conn) => {
        migrated = undefined;
        await migrateOn(conn);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // Kysely.destroy ends the pool / closes the database: only for connections we opened.
      if (db && owned) await db.destroy().catch(() => {});
    },
  };
}

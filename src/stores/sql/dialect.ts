/**
 * What differs between the SQL dialects, as one small interface: how to open a connection, the
 * DDL of each migration, how an "insert unless present" and an upsert are spelled, whether row
 * locks exist, and which driver errors mean "the database is unreachable" (StoreUnavailableError)
 * or "try the transaction again" (a deadlock). The queries themselves are written once, in the store's modules.
 */
import type { Dialect } from 'kysely';
import type { SqlDialect } from '../../core/config.js';
import { MissingDependencyError } from '../../core/errors.js';

/** The SQL store's name, in its errors, logs and health reports. */
export const SQL_STORE_NAME = 'sql';

/** The physical names of the store's tables, all derived from the configured table name. */
export interface TableNames {
  sessions: string;
  userLocks: string;
  migrations: string;
}

export function tableNames(table: string): TableNames {
  return {
    sessions: table,
    userLocks: `${table}_user_locks`,
    migrations: `${table}_migrations`,
  };
}

/** A connection the store opened itself (it closes it), with where it points for error messages. */
export interface OpenedDialect {
  dialect: Dialect;
  /** host:port or file path, never a credential. */
  address: string;
  /** Key that identifies the database file (SQLite) so instances on one file share a write lock. */
  fileKey?: unknown;
}

export interface DialectSpec {
  readonly name: SqlDialect;
  /** Quotes a (validated, plain) identifier for DDL. */
  quote(identifier: string): string;
  /**
   * The migrations, oldest first; each is a list of idempotent statements. Version n is index
   * n - 1. Never edit a published version: add a new one.
   */
  migrations(names: TableNames): string[][];
  /** `INSERT … ` that does nothing when the primary key exists, for `columns` given as `?` placeholders. */
  insertIgnore(table: string, columns: string[]): string;
  /** Whether `SELECT … FOR UPDATE` exists (SQLite serialises writers with BEGIN IMMEDIATE instead). */
  readonly rowLocks: boolean;
  /**
   * How an insert replaces the row its key already has: MySQL's `ON DUPLICATE KEY UPDATE … =
   * VALUES(col)` (`true`), or `ON CONFLICT (id) DO UPDATE … = excluded.col` (PostgreSQL, SQLite).
   */
  readonly onDuplicateKey: boolean;
  /** Lazily loads the driver and opens a pool/database from a resolved URL or file path. */
  open(url: string, options: { poolSize: number; timeout: number }): Promise<OpenedDialect>;
  /** The driver reports that the server cannot be reached, went away or is overloaded. */
  isUnavailable(err: unknown): boolean;
  /** A deadlock or serialisation failure: the whole transaction may be run again. */
  isRetryable(err: unknown): boolean;
}

/** `await import(name)` that turns a missing optional peer dependency into MissingDependencyError. */
export async function importDriver<T>(packageName: string, feature: string): Promise<T> {
  try {
    const mod = (await import(packageName)) as { default?: T } & T;
    return (mod.default ?? mod) as T;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new MissingDependencyError(packageName, feature, { cause: err });
    throw err;
  }
}

/** host:port of a connection URL, without user or password. */
export function urlAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 'default'}`;
  } catch {
    return 'unparsable url';
  }
}

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

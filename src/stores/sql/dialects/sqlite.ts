/**
 * SQLite (`better-sqlite3`): what differs from the shared SQL store. WAL mode lets readers run
 * beside the one writer; `busy_timeout` makes a writer in another process wait for the lock
 * instead of failing with "database is locked".
 */
import { resolve } from 'node:path';
import { type SqliteDatabase, SqliteDialect } from 'kysely';
import { StoreUnavailableError } from '../../../core/errors.js';
import type { DialectSpec } from '../dialect.js';
import { errorCode, importDriver, SQL_STORE_NAME } from '../dialect.js';

type BetterSqlite3 = new (
  filename: string,
  options?: { timeout?: number },
) => SqliteDatabase & { pragma(source: string): unknown };

const q = (id: string) => `"${id}"`;

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB)/;

/** Sets the pragmas every connection the store uses needs (also applied to a caller's handle). */
export function prepareSqlite(database: { pragma?(source: string): unknown }, timeout: number) {
  if (typeof database.pragma !== 'function') return;
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${Math.max(0, Math.floor(timeout))}`);
  database.pragma('synchronous = NORMAL');
}

export const sqlite: DialectSpec = {
  name: 'sqlite',
  quote: q,
  rowLocks: false,
  onDuplicateKey: false,
  migrations: (t) => [
    [
      `CREATE TABLE IF NOT EXISTS ${q(t.sessions)} (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER,
  absolute_expires_at INTEGER,
  expires_at INTEGER,
  ip TEXT,
  user_agent TEXT,
  device_browser TEXT,
  device_browser_version TEXT,
  device_os TEXT,
  device_os_version TEXT,
  device_type TEXT NOT NULL DEFAULT 'unknown',
  csrf TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'active',
  terminated_at INTEGER,
  termination_reason TEXT
)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_user_idx`)} ON ${q(t.sessions)} (user_id, status)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_expiry_idx`)} ON ${q(t.sessions)} (status, expires_at)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_terminated_idx`)} ON ${q(t.sessions)} (status, terminated_at)`,
      `CREATE TABLE IF NOT EXISTS ${q(t.userLocks)} (user_id TEXT PRIMARY KEY NOT NULL)`,
    ],
  ],
  insertIgnore: (table, columns) =>
    `INSERT OR IGNORE INTO ${q(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,

  async open(filename, { timeout }) {
    const Database = await importDriver<BetterSqlite3>(
      'better-sqlite3',
      'The SQLite session store',
    );
    const memory = filename === ':memory:' || filename === '';
    const path = memory ? ':memory:' : resolve(filename);
    let database: InstanceType<BetterSqlite3>;
    try {
      database = new Database(path, { timeout });
      prepareSqlite(database, timeout);
    } catch (err) {
      // Opening fails for a missing folder or an unreadable file: the database is unreachable.
      const code = errorCode(err) ?? 'SQLITE_CANTOPEN';
      throw new StoreUnavailableError(
        SQL_STORE_NAME,
        path,
        `cannot open the SQLite database (${code})`,
        { cause: err },
      );
    }
    return {
      dialect: new SqliteDialect({ database }),
      address: path,
      fileKey: memory ? database : path,
    };
  },

  isUnavailable: (err) => UNAVAILABLE.test(errorCode(err) ?? ''),
  isRetryable: () => false,
};

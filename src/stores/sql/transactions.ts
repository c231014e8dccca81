/**
 * Writes on the SQL store: transactions (READ COMMITTED with row locks, run again on a deadlock)
 * and, for SQLite, the per-file write lock that queues this process's writers before the
 * database's own lock.
 */
import { sql } from 'kysely';
import type { SqlConnection } from './connection.js';
import type { Db } from './schema.js';

/** Attempts of a transaction that keeps hitting deadlocks before its error reaches the caller. */
const MAX_TX_ATTEMPTS = 8;

/** Write serialisation per SQLite file inside this process (see `writeTx`). */
const sqliteWriteLocks = new Map<unknown, Promise<unknown>>();

function withFileLock<T>(key: unknown, fn: () => Promise<T>): Promise<T> {
  const previous = sqliteWriteLocks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  sqliteWriteLocks.set(key, tail);
  void tail.then(() => {
    if (sqliteWriteLocks.get(key) === tail) sqliteWriteLocks.delete(key);
  });
  return run;
}

export interface SqlWriter {
  /**
   * A write transaction. PostgreSQL/MySQL: READ COMMITTED with row locks, run again on a
   * deadlock. SQLite: BEGIN IMMEDIATE takes the one write lock up front (no upgrade deadlock), and
   * instances of this process on the same file queue here first: better-sqlite3 is synchronous, so
   * waiting on the busy timeout inside the process would block the very event loop that must
   * release it.
   */
  tx<T>(conn: Db, fn: (trx: Db) => Promise<T>): Promise<T>;
  /** A single write statement; on SQLite it queues behind this process's other writers too. */
  one<T>(conn: Db, fn: (c: Db) => Promise<T>): Promise<T>;
}

export function sqlWriter(connection: SqlConnection): SqlWriter {
  const sqlite = connection.dialect === 'sqlite';
  return {
    async tx<T>(conn: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
      if (sqlite) {
        return withFileLock(connection.fileKey, () =>
          conn.connection().execute(async (c) => {
            await sql`begin immediate`.execute(c);
            try {
              const result = await fn(c);
              await sql`commit`.execute(c);
              return result;
            } catch (err) {
              await sql`rollback`.execute(c).catch(() => {});
              throw err;
            }
          }),
        );
      }
      for (let attempt = 1; ; attempt++) {
        try {
          return await conn.transaction().setIsolationLevel('read committed').execute(fn);
        } catch (err) {
          if (attempt >= MAX_TX_ATTEMPTS || !connection.spec.isRetryable(err) || connection.closed)
            throw err;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        }
      }
    },
    one<T>(conn: Db, fn: (c: Db) => Promise<T>): Promise<T> {
      return sqlite ? withFileLock(connection.fileKey, () => fn(conn)) : fn(conn);
    },
  };
}

/**
 * The per-user limit and termination inside SQL transactions. Every change to one user's set of
 * sessions first locks that user's row in `<table>_user_locks` (SQLite: the single writer of
 * BEGIN IMMEDIATE does it), then the session rows: one lock order everywhere, so concurrent logins
 * of one user cannot both stay under the limit and cannot deadlock each other. A new session's row
 * is written as an upsert: a create replaces whatever row its id has (the contract's rule).
 */
import { sql } from 'kysely';
import type { CreateOptions, SessionRecord, TerminationReason } from '../../core/types.js';
import type { DialectSpec, TableNames } from './dialect.js';
import { recordToRow, type SessionRow } from './rows.js';
import { type Db, executeRaw, n } from './schema.js';

export interface UserLimitContext {
  spec: DialectSpec;
  names: TableNames;
}

/** Makes sure the user's lock row exists (outside the transaction, so no lock is held after). */
export async function ensureUserLockRow(
  conn: Db,
  { spec, names }: UserLimitContext,
  userId: string | null,
): Promise<void> {
  if (userId === null || !spec.rowLocks) return;
  await executeRaw(conn, spec.insertIgnore(names.userLocks, ['user_id']), [userId]);
}

/** Serialises every change to one user's set of sessions (no-op on SQLite: one writer anyway). */
export async function lockUser(
  trx: Db,
  { spec }: UserLimitContext,
  userId: string | null,
): Promise<void> {
  if (userId === null || !spec.rowLocks) return;
  await trx
    .selectFrom('__user_locks')
    .select('user_id')
    .where('user_id', '=', userId)
    .forUpdate()
    .execute();
}

/** Ends the active sessions among `ids`; returns how many it ended. */
export async function terminateRows(
  trx: Db,
  ids: string[],
  reason: TerminationReason,
  now: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await trx
    .updateTable('__sessions')
    .set({ status: 'terminated', terminated_at: now, termination_reason: reason })
    .where('id', 'in', ids)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return n(result.numUpdatedRows);
}

/**
 * Inside a transaction that holds the user's lock: evict past the limit, then write the row. A row
 * the id already has (terminated, expired or live, with its audit columns) is replaced in the same
 * statement, so concurrent creates of one id never fail on the primary key.
 */
export async function insertWithLimit(
  trx: Db,
  { spec }: UserLimitContext,
  record: SessionRecord,
  options: CreateOptions,
): Promise<string[]> {
  let evicted: string[] = [];
  const limit = options.maxSessionsPerUser;
  if (record.userId !== null && limit !== null) {
    let query = trx
      .selectFrom('__sessions')
      .select('id')
      .where('user_id', '=', record.userId)
      .where('status', '=', 'active')
      .where('expires_at', '>', options.now)
      .where('id', '!=', record.id) // replaced below, never counted or evicted
      .orderBy('last_seen_at', 'desc')
      .orderBy('id', 'asc');
    if (spec.rowLocks) query = query.forUpdate();
    const mine = await query.execute();
    evicted = mine.slice(Math.max(0, limit - 1)).map((r) => r.id);
    await terminateRows(trx, evicted, 'limit', options.now);
  }
  await upsertRow(trx, spec, recordToRow(record));
  return evicted;
}

/** Inserts `row`, or overwrites every column of the row that already has its id. */
async function upsertRow(trx: Db, spec: DialectSpec, row: SessionRow): Promise<void> {
  const columns = Object.keys(row).filter((c) => c !== 'id') as (keyof SessionRow)[];
  const insert = trx.insertInto('__sessions').values(row);
  if (spec.onDuplicateKey) {
    const values = Object.fromEntries(columns.map((c) => [c, sql`VALUES(${sql.ref(c)})`]));
    await insert.onDuplicateKeyUpdate(values).execute();
  } else {
    const values = Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]));
    await insert.onConflict((oc) => oc.column('id').doUpdateSet(values)).execute();
  }
}

/**
 * SQL cleanup: expired sessions become audit rows (reason `timeout`, ended at their expiry), and
 * audit rows past the retention are deleted. Both walk the (status, expires_at) and
 * (status, terminated_at) indexes one batch at a time, so the cost follows the number expired.
 */
import { type Db, n } from './schema.js';
import type { SqlWriter } from './transactions.js';

export interface CleanupSettings {
  /** Rows per statement. */
  batchSize: number;
  /** How long terminated rows are kept, ms. */
  retention: number;
}

export interface CleanupCounts {
  /** Expired sessions turned into audit rows. */
  ended: number;
  /** Audit rows deleted past the retention. */
  purged: number;
  /** Rows edited into a NULL expiry, retired. */
  invalid: number;
}

/**
 * Runs `apply` on the ids `select` returns, a batch at a time, until a batch comes back short;
 * returns the total `apply` reports.
 */
async function inBatches(
  batchSize: number,
  select: () => Promise<{ id: string }[]>,
  apply: (ids: string[]) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = (await select()).map((r) => r.id);
    if (ids.length === 0) break;
    const applied = await apply(ids);
    total += applied;
    // A full batch of which nothing changed (another process got there first, or a row the
    // condition no longer matches) would be selected again forever: stop, the next run goes on.
    if (ids.length < batchSize || applied === 0) break;
  }
  return total;
}

function endExpired(conn: Db, write: SqlWriter, now: number, batchSize: number): Promise<number> {
  return inBatches(
    batchSize,
    () =>
      conn
        .selectFrom('__sessions')
        .select('id')
        .where('status', '=', 'active')
        .where('expires_at', '<=', now)
        .orderBy('expires_at')
        .limit(batchSize)
        .execute(),
    async (ids) => {
      const result = await write.one(conn, (c) =>
        c
          .updateTable('__sessions')
          .set((eb) => ({
            status: 'terminated',
            terminated_at: eb.ref('expires_at'),
            termination_reason: 'timeout',
          }))
          .where('id', 'in', ids)
          .where('status', '=', 'active')
          .where('expires_at', '<=', now)
          .executeTakeFirst(),
      );
      return n(result.numUpdatedRows);
    },
  );
}

function purgeAudit(
  conn: Db,
  write: SqlWriter,
  before: number,
  batchSize: number,
): Promise<number> {
  return inBatches(
    batchSize,
    () =>
      conn
        .selectFrom('__sessions')
        .select('id')
        .where('status', '=', 'terminated')
        .where('terminated_at', '<', before)
        .orderBy('terminated_at')
        .limit(batchSize)
        .execute(),
    async (ids) => {
      const result = await write.one(conn, (c) =>
        c
          .deleteFrom('__sessions')
          .where('id', 'in', ids)
          .where('status', '=', 'terminated')
          .executeTakeFirst(),
      );
      return n(result.numDeletedRows);
    },
  );
}

export async function cleanupRows(
  conn: Db,
  write: SqlWriter,
  now: number,
  { batchSize, retention }: CleanupSettings,
): Promise<CleanupCounts> {
  const ended = await endExpired(conn, write, now, batchSize);
  // Rows edited into a NULL expiry are never served; retire them too.
  const broken = await write.one(conn, (c) =>
    c
      .updateTable('__sessions')
      .set({ status: 'terminated', terminated_at: now, termination_reason: 'timeout' })
      .where('status', '=', 'active')
      .where('expires_at', 'is', null)
      .executeTakeFirst(),
  );
  const purged = await purgeAudit(conn, write, now - retention, batchSize);
  return { ended, purged, invalid: n(broken.numUpdatedRows) };
}

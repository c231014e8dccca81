/**
 * The SQL store's reads for dashboards and audits: live sessions page by page, the audit trail of
 * terminated sessions, and counts by user, browser, OS and device type. Each is a query on the
 * (status, …) indexes; none takes a lock.
 */

import { emptyStats } from '../../core/record.js';
import type {
  ListQuery,
  ListResult,
  StoreStats,
  TerminatedSessionRecord,
} from '../../core/types.js';
import { type InvalidRowReport, liveRecords, readRow } from './rows.js';
import { type Db, n } from './schema.js';

/** Live sessions, most recently active first. */
export async function listLive(
  conn: Db,
  query: ListQuery,
  now: number,
  invalid: InvalidRowReport,
): Promise<ListResult> {
  const base = conn
    .selectFrom('__sessions')
    .where('status', '=', 'active')
    .where('expires_at', '>', now)
    .$if(query.userId !== undefined, (qb) => qb.where('user_id', '=', query.userId!));
  const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy('last_seen_at', 'desc')
    .orderBy('id', 'asc')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  return { sessions: liveRecords(rows, now, invalid), total: n(total?.n) };
}

/** The audit trail: terminated sessions, most recently terminated first. */
export async function listTerminated(
  conn: Db,
  query: ListQuery,
  invalid: InvalidRowReport,
): Promise<{ sessions: TerminatedSessionRecord[]; total: number }> {
  const base = conn
    .selectFrom('__sessions')
    .where('status', '=', 'terminated')
    .$if(query.userId !== undefined, (qb) => qb.where('user_id', '=', query.userId!));
  const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy('terminated_at', 'desc')
    .orderBy('id', 'asc')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  const sessions: TerminatedSessionRecord[] = [];
  for (const row of rows) {
    const read = readRow(row);
    if (read.ok && read.status === 'terminated') sessions.push(read.record);
    else if (!read.ok) invalid(row, read.problem);
  }
  return { sessions, total: n(total?.n) };
}

/** Counts over live sessions. */
export async function liveStats(conn: Db, now: number): Promise<StoreStats> {
  const live = conn
    .selectFrom('__sessions')
    .where('status', '=', 'active')
    .where('expires_at', '>', now);
  const totals = await live
    .select((eb) => [
      eb.fn.countAll().as('sessions'),
      eb.fn.count('user_id').distinct().as('users'),
      eb.fn
        .sum<number>(eb.case().when('user_id', 'is', null).then(1).else(0).end())
        .as('anonymous'),
    ])
    .executeTakeFirst();
  const stats = emptyStats();
  stats.activeSessions = n(totals?.sessions);
  stats.distinctUsers = n(totals?.users);
  stats.anonymousSessions = n(totals?.anonymous);
  const groups = [
    ['device_browser', stats.byBrowser],
    ['device_os', stats.byOs],
    ['device_type', stats.byDeviceType],
  ] as const;
  for (const [column, into] of groups) {
    const rows = await live
      .select([column, (eb) => eb.fn.countAll().as('n')])
      .groupBy(column)
      .execute();
    for (const row of rows) {
      const key = (row[column] as string | null) ?? 'unknown';
      into[key] = (into[key] ?? 0) + n(row.n);
    }
  }
  return stats;
}

/**
 * The SQL store's analytics: the age of live sessions (median and 95th percentile, exact: one
 * ordered query per rank) and logins per hour, counted from the rows themselves, terminated ones
 * included (the audit trail keeps them for `auditRetention`), so every process sees the same
 * figures and a logout does not take a login back.
 */
import { firstHour, loginStatsFromTimes, percentileRank } from '../../core/analytics.js';
import type { LoginStats, SessionAgeStats } from '../../core/types.js';
import { type Db, n } from './schema.js';

/** Median and p95 age of the `count` live sessions: the rows at those ranks, newest first. */
export async function sessionAge(conn: Db, now: number, count: number): Promise<SessionAgeStats> {
  const at = async (p: number): Promise<number | null> => {
    if (count === 0) return null;
    const row = await conn
      .selectFrom('__sessions')
      .select('created_at')
      .where('status', '=', 'active')
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'asc')
      .limit(1)
      .offset(percentileRank(p, count))
      .executeTakeFirst();
    // A session ended between the count and this read: the rank fell past the end.
    return row ? Math.max(0, now - n(row.created_at)) : null;
  };
  return { medianMs: await at(0.5), p95Ms: await at(0.95), count, sampled: false };
}

/**
 * Logins in the last 24 clock hours. A rotation keeps its session's user and creation time, so a
 * login is one distinct (user, creation time) among the rows, whatever became of them.
 */
export async function loginsPerHour(conn: Db, now: number): Promise<LoginStats> {
  const rows = await conn
    .selectFrom('__sessions')
    .select(['user_id', 'created_at'])
    .distinct()
    .where('user_id', 'is not', null)
    .where('created_at', '>=', firstHour(now))
    .where('created_at', '<=', now)
    .execute();
  return loginStatsFromTimes(
    rows.map((r) => n(r.created_at)),
    now,
  );
}

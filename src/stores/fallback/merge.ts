/**
 * Answers of both stores of a fallback merged into one, for the reads that cover both while the
 * secondary may hold sessions the primary lacks: listings (deduplicated, most recently active
 * first) and stats (summed).
 */

import { byRecentActivity } from '../../core/record.js';
import type { ListQuery, ListResult, SessionStore, StoreStats } from '../../core/types.js';

/** Live sessions of both stores, merged most recently active first, for listing. */
export async function mergedList(
  primary: SessionStore,
  secondary: SessionStore,
  query: ListQuery,
  now: number,
): Promise<ListResult> {
  const wide = { ...query, offset: 0, limit: (query.offset ?? 0) + query.limit };
  const [a, b] = await Promise.all([primary.list!(wide, now), secondary.list!(wide, now)]);
  const seen = new Set(a.sessions.map((r) => r.id));
  const extra = b.sessions.filter((r) => !seen.has(r.id));
  const sessions = [...a.sessions, ...extra].sort(byRecentActivity);
  const offset = query.offset ?? 0;
  return {
    sessions: sessions.slice(offset, offset + query.limit),
    total: a.total + b.total - (b.sessions.length - extra.length),
  };
}

export function addStats(a: StoreStats, b: StoreStats): StoreStats {
  const sum = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    activeSessions: a.activeSessions + b.activeSessions,
    // A user with sessions in both stores is counted twice: an upper bound while both hold some.
    distinctUsers: a.distinctUsers + b.distinctUsers,
    anonymousSessions: a.anonymousSessions + b.anonymousSessions,
    byBrowser: sum(a.byBrowser, b.byBrowser),
    byOs: sum(a.byOs, b.byOs),
    byDeviceType: sum(a.byDeviceType, b.byDeviceType),
    ...mergedAnalytics(a, b),
  };
}

/**
 * Logins are summed hour by hour (a login is stored in one of the two). Ages cannot be merged
 * from two medians: the figures of the store holding more live sessions are kept, marked as a
 * sample when the other holds some too. The server figures are those of `a` (the one serving).
 */
function mergedAnalytics(a: StoreStats, b: StoreStats): Partial<StoreStats> {
  const out: Partial<StoreStats> = {};
  if (a.logins && b.logins) {
    const other = new Map(b.logins.perHour.map((h) => [h.start, h.count]));
    out.logins = {
      lastHour: a.logins.lastHour + b.logins.lastHour,
      perHour: a.logins.perHour.map((h) => ({ ...h, count: h.count + (other.get(h.start) ?? 0) })),
    };
  } else if (a.logins ?? b.logins) out.logins = a.logins ?? b.logins;
  const [more, less] =
    (a.sessionAge?.count ?? 0) >= (b.sessionAge?.count ?? 0)
      ? [a.sessionAge, b.sessionAge]
      : [b.sessionAge, a.sessionAge];
  if (more) out.sessionAge = { ...more, sampled: more.sampled || (less?.count ?? 0) > 0 };
  if (a.server) out.server = a.server;
  return out;
}

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
  };
}

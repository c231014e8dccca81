/**
 * The Redis store's walks over every bucket: admin listing (each bucket's most recently active,
 * merged), stats (each bucket's counters, summed, then the analytics of ./analytics.ts, which
 * share the age sample out by each bucket's live sessions) and cleanup (each bucket's expired, in
 * batches). With one bucket each is one script call (stats two); with several, one call per
 * bucket, in parallel.
 */
import { StoreUnavailableError } from '../../core/errors.js';
import { byRecentActivity, emptyStats } from '../../core/record.js';
import type { ListResult, StoreStats } from '../../core/types.js';
import { bucketAnalytics } from './analytics.js';
import { counterName } from './record-value.js';
import { type CorruptedReport, recordsReply, strings } from './replies.js';
import { CLEANUP, LIST, type LuaScript, STATS } from './scripts.js';

export interface BucketWalkDeps {
  tags: readonly string[];
  /** Sessions removed per cleanup call. */
  batch: number;
  run(script: LuaScript, tag: string, now: number, args: string[]): Promise<unknown>;
  corrupted: CorruptedReport;
  /**
   * Told why stats() leaves analytics out: `no_sample` (ages past the sample size on a server
   * without ZRANDMEMBER), or the error the analytics script met (the counts are still given).
   */
  noAnalytics(why: 'no_sample' | Error): void;
}

export function bucketWalks({ tags, batch, run, corrupted, noAnalytics }: BucketWalkDeps) {
  const each = <T>(fn: (tag: string) => Promise<T>) => Promise.all(tags.map(fn));

  async function list(offset: number, limit: number, now: number): Promise<ListResult> {
    // Each bucket's first offset + limit by activity hold the merged first offset + limit.
    const replies = await each((tag) => run(LIST, tag, now, [String(offset + limit)]));
    let total = 0;
    const sessions = replies.flatMap((reply) => {
      const [count, flat] = Array.isArray(reply) ? reply : [];
      total += Number(count);
      return recordsReply(flat, corrupted);
    });
    sessions.sort(byRecentActivity);
    return { sessions: sessions.slice(offset, offset + limit), total };
  }

  async function stats(now: number): Promise<StoreStats> {
    const stats: StoreStats = emptyStats();
    const groups = { b: stats.byBrowser, o: stats.byOs, t: stats.byDeviceType };
    const live: number[] = [];
    for (const reply of await each((tag) => run(STATS, tag, now, []))) {
      const [active, countersFlat, subtractFlat] = Array.isArray(reply) ? reply : [];
      const counts = new Map<string, number>();
      const c = strings(countersFlat);
      for (let j = 0; j + 1 < c.length; j += 2) counts.set(c[j]!, Number(c[j + 1]));
      const s = strings(subtractFlat);
      for (let j = 0; j + 1 < s.length; j += 2)
        counts.set(s[j]!, (counts.get(s[j]!) ?? 0) - Number(s[j + 1]));
      live.push(Number(active));
      stats.activeSessions += Number(active);
      stats.distinctUsers += Math.max(0, counts.get('users') ?? 0);
      stats.anonymousSessions += Math.max(0, counts.get('anon') ?? 0);
      for (const [field, n] of counts) {
        const counter = counterName(field);
        if (counter && n > 0) {
          const group = groups[counter.group];
          group[counter.name] = (group[counter.name] ?? 0) + n;
        }
      }
    }
    try {
      const { sessionAge, logins, noSample } = await bucketAnalytics(tags, live, now, run);
      if (noSample) noAnalytics('no_sample');
      return { ...stats, ...(sessionAge ? { sessionAge } : {}), logins };
    } catch (err) {
      if (!(err instanceof Error) || err instanceof StoreUnavailableError) throw err;
      noAnalytics(err);
      return stats;
    }
  }

  async function cleanup(now: number): Promise<number> {
    const removed = await each(async (tag) => {
      let n = 0;
      for (;;) {
        const batchRemoved = Number(await run(CLEANUP, tag, now, [String(batch)]));
        n += batchRemoved;
        if (batchRemoved < batch) return n;
      }
    });
    return removed.reduce((a, b) => a + b, 0);
  }

  return { list, stats, cleanup };
}

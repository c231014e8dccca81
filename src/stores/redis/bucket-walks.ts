/**
 * The Redis store's walks over every bucket: admin listing (each bucket's most recently active,
 * merged), stats (each bucket's counters, summed) and cleanup (each bucket's expired, in batches).
 * With one bucket each is one script call; with several, one call per bucket, in parallel.
 */
import { byRecentActivity } from '../../core/record.js';
import type { ListResult, StoreStats } from '../../core/types.js';
import { counterName } from './record-value.js';
import { type CorruptedReport, recordsReply, strings } from './replies.js';
import { CLEANUP, LIST, type LuaScript, STATS } from './scripts.js';

export interface BucketWalkDeps {
  tags: readonly string[];
  /** Sessions removed per cleanup call. */
  batch: number;
  run(script: LuaScript, tag: string, now: number, args: string[]): Promise<unknown>;
  corrupted: CorruptedReport;
}

export function bucketWalks({ tags, batch, run, corrupted }: BucketWalkDeps) {
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
    const stats: StoreStats = {
      activeSessions: 0,
      distinctUsers: 0,
      anonymousSessions: 0,
      byBrowser: {},
      byOs: {},
      byDeviceType: {},
    };
    const groups = { b: stats.byBrowser, o: stats.byOs, t: stats.byDeviceType };
    for (const reply of await each((tag) => run(STATS, tag, now, []))) {
      const [active, countersFlat, subtractFlat] = Array.isArray(reply) ? reply : [];
      const counts = new Map<string, number>();
      const c = strings(countersFlat);
      for (let j = 0; j + 1 < c.length; j += 2) counts.set(c[j]!, Number(c[j + 1]));
      const s = strings(subtractFlat);
      for (let j = 0; j + 1 < s.length; j += 2)
        counts.set(s[j]!, (counts.get(s[j]!) ?? 0) - Number(s[j + 1]));
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
    return stats;
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

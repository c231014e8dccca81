/**
 * Session analytics shared by the stores: the age of live sessions (median and 95th percentile)
 * and logins per hour.
 *
 * A login is a session stored for a signed-in user with `createdAt` equal to the store call's
 * `now`: `create` with a `userId`, or `regenerate` to another user (the manager starts such a
 * session afresh). A plain rotation carries the old `createdAt` over and is not counted again.
 * Stores count logins where every process sees them (the SQL rows, a Redis hash per hour, the
 * memory store's own counters), never in one process's manager.
 */
import type { LoginStats, SessionAgeStats, SessionRecord, StoreStats } from './types.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** Hours in `LoginStats.perHour`, the current one included. */
export const LOGIN_HOURS = 24;

/** Whether storing `record` at `now` is a login (see the module's header). */
export function isLogin(record: SessionRecord, now: number): boolean {
  return record.userId !== null && record.createdAt === now;
}

/** The nearest-rank percentile `p` (0 < p ≤ 1) of `count` sorted values: its 0-based rank. */
export function percentileRank(p: number, count: number): number {
  return Math.max(0, Math.ceil(p * count) - 1);
}

/** Median and 95th percentile of ages in ms (any order); `sampled` when they are a sample. */
export function ageStats(ages: number[], sampled = false): SessionAgeStats {
  const sorted = [...ages].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0 ? null : sorted[percentileRank(p, sorted.length)]!;
  return { medianMs: at(0.5), p95Ms: at(0.95), count: sorted.length, sampled };
}

/** The first hour start of `perHour` at `now` (the current hour is the last of them). */
export function firstHour(now: number): number {
  return (Math.floor(now / HOUR_MS) - (LOGIN_HOURS - 1)) * HOUR_MS;
}

/**
 * Login stats from counts per minute (key: minute start, epoch ms): `lastHour` is the 60 minutes
 * up to now, the current minute included, so it is exact to the minute.
 */
export function loginStatsFromMinutes(
  minutes: Iterable<[number, number]>,
  now: number,
): LoginStats {
  return loginStats(minutes, now, (Math.floor(now / MINUTE_MS) - 59) * MINUTE_MS);
}

/** Login stats from each login's time: exact. */
export function loginStatsFromTimes(times: Iterable<number>, now: number): LoginStats {
  const entries = function* () {
    for (const t of times) yield [t, 1] as [number, number];
  };
  return loginStats(entries(), now, now - HOUR_MS + 1);
}

function loginStats(entries: Iterable<[number, number]>, now: number, since: number): LoginStats {
  const first = firstHour(now);
  const perHour = Array.from({ length: LOGIN_HOURS }, (_, i) => ({
    start: first + i * HOUR_MS,
    count: 0,
  }));
  let lastHour = 0;
  for (const [time, count] of entries) {
    if (time > now) continue;
    if (time >= since) lastHour += count;
    const hour = Math.floor((time - first) / HOUR_MS);
    if (hour >= 0 && hour < LOGIN_HOURS) perHour[hour]!.count += count;
  }
  return { lastHour, perHour };
}

/**
 * Logins counted per minute in one process's memory, for the memory store: the last 25 hours
 * are kept (one number per minute with a login), older minutes dropped as new ones come.
 */
export class LoginTally {
  readonly #minutes = new Map<number, number>();

  record(now: number): void {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    this.#minutes.set(minute, (this.#minutes.get(minute) ?? 0) + 1);
    const oldest = firstHour(now) - HOUR_MS;
    for (const key of this.#minutes.keys()) {
      if (key >= oldest) break;
      this.#minutes.delete(key);
    }
  }

  stats(now: number): LoginStats {
    return loginStatsFromMinutes(this.#minutes, now);
  }
}

/** `stats` for a JSON answer: times as ISO 8601 (the hours' starts), as every JSON API gives them. */
export function statsForJson(stats: StoreStats | null) {
  if (!stats?.logins) return stats;
  return {
    ...stats,
    logins: {
      lastHour: stats.logins.lastHour,
      perHour: stats.logins.perHour.map((h) => ({
        start: new Date(h.start).toISOString(),
        count: h.count,
      })),
    },
  };
}

/** A duration for people: `2d 3h`, `2h 45m`, `40m`, `35s`. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const [d, h, m] = [
    Math.floor(s / 86_400),
    Math.floor((s % 86_400) / 3600),
    Math.floor((s % 3600) / 60),
  ];
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Bytes for people, binary units: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A ratio as a percentage with one decimal, or `—` when there is none. */
export function humanRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`;
}

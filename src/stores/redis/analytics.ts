/**
 * The Redis store's session analytics (layout 2): the age of live sessions and logins per hour,
 * read bucket by bucket after the stats walk has counted each bucket's live sessions.
 *
 * - Logins: the create and regenerate scripts count a login themselves (`countLogin` in
 *   ./lua-prelude.ts) in the bucket's hash of the clock hour, `<tag>lg:<hour start>`, a field per
 *   minute, so a login stays one round trip and every process's logins show. Each bucket's 24
 *   hashes are read and summed minute by minute: exact to the minute.
 * - Age: exact while the buckets hold `AGE_SAMPLE` live sessions or fewer (every live member of
 *   each bucket's expiry index, and the creation time at the head of its value). Past that, a
 *   random sample of `AGE_SAMPLE`, split over the buckets in proportion to their live sessions
 *   (each bucket draws its share with `ZRANDMEMBER`, Redis 6.2+), reported with `sampled: true`.
 *   A server without `ZRANDMEMBER` then gives no `sessionAge` (`noSample`); the rest stays.
 */
import {
  ageStats,
  firstHour,
  HOUR_MS,
  LOGIN_HOURS,
  loginStatsFromMinutes,
} from '../../core/analytics.js';
import type { LoginStats, SessionAgeStats } from '../../core/types.js';
import { createdAtOf } from './record-value.js';
import { strings } from './replies.js';
import { type LuaScript, script } from './scripts.js';

/** Live sessions read for the age figures; past it they are a random sample of this many. */
export const AGE_SAMPLE = 1000;

/**
 * ARGV: tag, now, grace, share ('all': every live session; else how many to sample), first hour
 * start. Read only. Reply: {'ok', {createdAt field of each session read}, {HGETALL of each of the
 * 24 hours' login hashes}}, or 'nosample' first when `ZRANDMEMBER` is refused.
 */
export const ANALYTICS = script(
  'analytics',
  `
local heads, status = {}, 'ok'
local function keep(m)
  local v = redis.pcall('GET', skey(m))
  if type(v) ~= 'string' then return end
  local cut = string.find(v, '\\31', 1, true)
  if cut then heads[#heads + 1] = string.sub(v, 1, cut - 1) end
end
if ARGV[4] == 'all' then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', EKEY, '(' .. fmt(NOW), '+inf')) do keep(m) end
else
  local share = tonumber(ARGV[4])
  if share > 0 then
    -- Expired members not cleaned up yet are skipped: draw more to make up for them (at most 2×).
    local expired = redis.call('ZCOUNT', EKEY, '-inf', fmt(NOW))
    local picked = redis.pcall('ZRANDMEMBER', EKEY, math.min(share + expired, 2 * share), 'WITHSCORES')
    if type(picked) ~= 'table' or picked.err then
      status = 'nosample'
    else
      for j = 1, #picked, 2 do
        if #heads >= share then break end
        if tonumber(picked[j + 1]) > NOW then keep(picked[j]) end
      end
    end
  end
end
local hours = {}
local first = tonumber(ARGV[5])
for j = 0, ${LOGIN_HOURS - 1} do
  hours[#hours + 1] = redis.call('HGETALL', T .. 'lg:' .. fmt(first + j * ${HOUR_MS}))
end
return { status, heads, hours }
`,
);

/**
 * Each bucket's share of a sample of `size` over `live` sessions per bucket: proportional, largest
 * remainders first, summing to `size` (or 'all' for every bucket when the total fits).
 */
export function sampleShares(live: readonly number[], size: number): (number | 'all')[] {
  const total = live.reduce((a, b) => a + Math.max(0, b), 0);
  if (total <= size) return live.map(() => 'all');
  const exact = live.map((n) => (Math.max(0, n) * size) / total);
  const shares = exact.map(Math.floor);
  let left = size - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    shares[i]!++;
    left--;
  }
  return shares;
}

export interface BucketAnalytics {
  /** Missing when a bucket had to sample and the server has no `ZRANDMEMBER`. */
  sessionAge?: SessionAgeStats;
  logins: LoginStats;
  /** A bucket could not sample (no `ZRANDMEMBER`): the ages are left out. */
  noSample: boolean;
}

/**
 * The analytics over every bucket, given each bucket's live sessions (from the stats walk, in
 * `tags` order). One read-only script per bucket, in parallel.
 */
export async function bucketAnalytics(
  tags: readonly string[],
  live: readonly number[],
  now: number,
  run: (script: LuaScript, tag: string, now: number, args: string[]) => Promise<unknown>,
): Promise<BucketAnalytics> {
  const shares = sampleShares(live, AGE_SAMPLE);
  const first = String(firstHour(now));
  const replies = await Promise.all(
    tags.map((tag, b) => run(ANALYTICS, tag, now, [String(shares[b]), first])),
  );
  const ages: number[] = [];
  const minutes = new Map<number, number>();
  let noSample = false;
  for (const reply of replies) {
    const [status, heads, hours] = Array.isArray(reply) ? reply : [];
    if (String(status) === 'nosample') noSample = true;
    for (const head of strings(heads)) {
      const createdAt = createdAtOf(head);
      if (createdAt !== null) ages.push(Math.max(0, now - createdAt));
    }
    for (const flat of Array.isArray(hours) ? hours : []) {
      const f = strings(flat);
      for (let j = 0; j + 1 < f.length; j += 2) {
        const minute = Number(f[j]);
        minutes.set(minute, (minutes.get(minute) ?? 0) + Number(f[j + 1]));
      }
    }
  }
  const sampled = shares.some((s) => s !== 'all');
  return {
    ...(noSample ? {} : { sessionAge: ageStats(ages, sampled) }),
    logins: loginStatsFromMinutes(minutes, now),
    noSample,
  };
}

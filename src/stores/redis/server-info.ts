/**
 * The Redis store's analytics, apart from the session scripts: the server's own figures (INFO
 * memory and stats), logins per hour, and the age of live sessions.
 *
 * - Logins: one hash per clock hour, `<base>lg:<hour start>`, one field per minute, raised with
 *   HINCRBY by the create and regenerate scripts themselves when they store a login
 *   (`LOGIN_COUNT_LUA`, in the prelude) and expiring 25 hours after its hour starts. Every process adds
 *   to the same hashes, so the figures are the deployment's, exact to the minute.
 * - Age: exact up to `AGE_SAMPLE` sessions; past it, a random sample of that many from the expiry
 *   index (ZRANDMEMBER, Redis 6.2+), reported with `sampled: true`. It reads only the expiry
 *   index's scores and each sampled hash's `c` (createdAt) field.
 * - Server: `used_memory`, and `keyspace_hits / (keyspace_hits + keyspace_misses)` of the node that
 *   holds the store's hash slot. The hit ratio is the whole server's since its stats were reset.
 *
 * Keys are built from the store's `{prefix}` base, so on a Cluster they share its slot.
 */
import { createHash } from 'node:crypto';
import {
  ageStats,
  firstHour,
  HOUR_MS,
  LOGIN_HOURS,
  loginStatsFromMinutes,
  MINUTE_MS,
} from '../../core/analytics.js';
import type { LoginStats, ServerStats, SessionAgeStats } from '../../core/types.js';
import type { ScriptClient } from './client.js';
import { strings } from './replies.js';
import type { LuaScript } from './scripts.js';

/** Live sessions read for the age figures; past it they are a random sample of this many. */
export const AGE_SAMPLE = 1000;

/** How long an hour's login hash lives after its hour starts (the 24 shown, and one spare). */
const LOGIN_KEY_LIFETIME = (LOGIN_HOURS + 1) * HOUR_MS;

function lua(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Lua for the session scripts' prelude (./lua-prelude.ts): `countLogin(k)` counts the session
 * just stored in hash `k` when it is a login (an owner, and created at NOW), so a login costs no
 * extra round trip. `add()` calls it. Uses the prelude's P, NOW and fmt.
 */
export const LOGIN_COUNT_LUA = `
local function countLogin(k)
  local f = redis.call('HMGET', k, 'u', 'c')
  if not f[1] or tonumber(f[2]) ~= NOW then return end
  local hour = math.floor(NOW / ${HOUR_MS}) * ${HOUR_MS}
  local lk = P .. 'lg:' .. fmt(hour)
  redis.call('HINCRBY', lk, fmt(math.floor(NOW / ${MINUTE_MS}) * ${MINUTE_MS}), 1)
  redis.call('PEXPIRE', lk, fmt(math.max(1, hour + ${LOGIN_KEY_LIFETIME} - NOW)))
end
`;

/**
 * KEYS: the expiry index, then the hours' login hashes. ARGV: base, now, sample size.
 * Reply: { sampled (0/1), createdAt of each live sampled session, { flat HGETALL per hour } }.
 */
const ANALYTICS = lua(
  'analytics',
  `
local now = tonumber(ARGV[2])
local size = tonumber(ARGV[3])
local created = {}
local picked = redis.call('ZRANDMEMBER', KEYS[1], size, 'WITHSCORES')
for j = 1, #picked, 2 do
  if tonumber(picked[j + 1]) > now then
    local c = redis.call('HGET', ARGV[1] .. 's:' .. picked[j], 'c')
    if c then created[#created + 1] = c end
  end
end
local hours = {}
for j = 2, #KEYS do hours[#hours + 1] = redis.call('HGETALL', KEYS[j]) end
local sampled = 0
if redis.call('ZCARD', KEYS[1]) > size then sampled = 1 end
return { sampled, created, hours }
`,
);

const loginKey = (base: string, hourStart: number) => `${base}lg:${hourStart}`;

/** The age of live sessions and the logins per hour, in one script. */
export async function sessionAnalytics(
  client: ScriptClient,
  base: string,
  now: number,
): Promise<{ sessionAge: SessionAgeStats; logins: LoginStats }> {
  const first = firstHour(now);
  const hours = Array.from({ length: LOGIN_HOURS }, (_, i) => first + i * HOUR_MS);
  const reply = await client.run(
    ANALYTICS,
    [`${base}e`, ...hours.map((h) => loginKey(base, h))],
    [base, String(now), String(AGE_SAMPLE)],
  );
  const [sampled, created, perHour] = Array.isArray(reply) ? reply : [];
  const ages = strings(created)
    .map(Number)
    .filter(Number.isFinite)
    .map((c) => Math.max(0, now - c));
  const minutes: [number, number][] = [];
  for (const flat of Array.isArray(perHour) ? perHour : []) {
    const f = strings(flat);
    for (let j = 0; j + 1 < f.length; j += 2) minutes.push([Number(f[j]), Number(f[j + 1])]);
  }
  return {
    sessionAge: ageStats(ages, Number(sampled) === 1),
    logins: loginStatsFromMinutes(minutes, now),
  };
}

/** `field:value` lines of an INFO reply. */
function infoFields(reply: unknown): Map<string, string> {
  const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply ?? '');
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** INFO memory and INFO stats of the node holding `routeKey`. */
export async function serverStats(client: ScriptClient, routeKey: string): Promise<ServerStats> {
  const [memory, stats] = await Promise.all([
    client.command(['INFO', 'memory'], routeKey),
    client.command(['INFO', 'stats'], routeKey),
  ]);
  const m = infoFields(memory);
  const s = infoFields(stats);
  const hits = Number(s.get('keyspace_hits') ?? 0);
  const misses = Number(s.get('keyspace_misses') ?? 0);
  return {
    usedMemoryBytes: Number(m.get('used_memory') ?? 0),
    keyspaceHits: hits,
    keyspaceMisses: misses,
    hitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
  };
}

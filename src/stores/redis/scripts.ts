/**
 * The Lua scripts of the Redis store (layout 2). A read is no script at all: one plain `GET` of
 * the session's value (./session-read.ts), with expiry decided by the caller's clock. Every write
 * is one script on one bucket (one hash slot), so it is one round trip and atomic on the server.
 * Every script gets the same first three arguments (the bucket's tag, now, ttl grace) and starts
 * with the prelude (./lua-prelude.ts), which owns this layout of a bucket `<tag>`:
 *
 *   <tag>s:<m>   string: the session's value (./record-value.ts); TTL = expiry + ttlGrace
 *   <tag>u:<u>   sorted set: the ids of user u's sessions in this bucket (score 0: a listpack)
 *   <tag>e       sorted set: the bucket's session ids scored by expiry (min of idle and absolute)
 *   <tag>a       sorted set: the bucket's session ids scored by lastSeenAt (admin listing)
 *   <tag>st      hash: the bucket's counters (anon, users, b:<browser>, o:<os>, t:<type code>)
 *   <tag>lg:<h>  hash: logins stored in this bucket in the clock hour starting at h, a field per
 *                minute start; expires 25 h after h (read by ./analytics.ts)
 *
 * plus `{<prefix>}v`, the layout version and bucket count, checked when a store connects. `<m>` is
 * the id shortened (./buckets.ts), `<u>` the user id as the value writes it. With one bucket (the
 * default on standalone Redis and Sentinel) `<tag>` is `{<prefix>}`; on a Cluster each bucket is its
 * own slot (see ./buckets.ts and the README for what that changes). Lua never parses JSON: data
 * values are opaque strings, so numbers, empty arrays and unicode round-trip exactly.
 *
 * Commands a script executes on the server (EVALSHA included): touch 5, patch 3 (more when it moves
 * the owner), create and destroy about 10 (index and counter upkeep; a login 1 or 2 more), listing
 * and stats one per session read.
 */
import { createHash } from 'node:crypto';
import { PRELUDE } from './lua-prelude.js';

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** A script on one bucket: the prelude, then `body`. */
export function script(name: string, body: string): LuaScript {
  const source = `${PRELUDE}\n${body}`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** ARGV: tag, now, grace, limit ('' = none), id member, value. Reply: the evicted id members. */
export const CREATE = script(
  'create',
  `
local evicted = {}
local limit = tonumber(ARGV[4])
local h = parse(ARGV[6])
if h[6] ~= '' and limit then makeRoom(h[6], limit, evicted, ARGV[5]) end
add(ARGV[5], ARGV[6])
return evicted
`,
);

/**
 * The touch a validation makes when it is due, applied to the stored value (so a patch that landed
 * since the read is kept): last seen now, the idle expiry slid by the session's own idle window
 * (idleExpiresAt - lastSeenAt) capped at the policy's idleTimeout and at the absolute expiry.
 * ARGV: tag, now, grace, id member, touchAfter, idleTimeout, setWindow ('1': the window becomes
 * idleTimeout). Reply: {state} when not live, else
 * {'live', touched 0|1, value} (0 when another touch landed within touchAfter).
 */
export const TOUCH = script(
  'touch',
  `
local m = ARGV[4]
local s, h, data, v = load(m)
if s ~= 'live' then return { s } end
local l, i, a = num(h[2]), num(h[3]), num(h[4])
if NOW - l < tonumber(ARGV[5]) then return { 'live', 0, v } end
local e = NOW + tonumber(ARGV[6])
if ARGV[7] ~= '1' then e = math.min(e, NOW + i - l) end
if a and a < e then e = a end
h[2], h[3], h[5] = b36(NOW), b36(e), b36(num(h[5]) + 1)
v = join(h, data)
redis.call('SET', skey(m), v, 'PX', fmt(math.max(1, e - NOW + GRACE)))
redis.call('ZADD', EKEY, fmt(e), m)
redis.call('ZADD', AKEY, fmt(NOW), m)
return { 'live', 1, v }
`,
);

/**
 * ARGV: tag, now, grace, id member, has csrf ('1'/'0'), csrf (encoded), owner ('0' unchanged, '1'
 * the next argument), owner (encoded; '' anonymous), max data bytes ('' = no limit), replace ('1':
 * the set members become the whole data), set count, unset count, then the set key/value pairs
 * (both JSON), then the unset keys (JSON). Reply as TOUCH, or {'too_large', bytes} when the data
 * would grow past the limit (nothing is written then). Never touches lastSeenAt or the expiry.
 */
export const PATCH = script(
  'patch',
  `
local m = ARGV[4]
local s, h, data = load(m)
if s ~= 'live' then return { s } end
local keys, vals, at = {}, {}, {}
if ARGV[10] ~= '1' then
  keys, vals, at = members(data)
  if not keys then return { 'corrupt' } end
end
local pos = 13
for _ = 1, tonumber(ARGV[11]) do
  local key, val = ARGV[pos], ARGV[pos + 1]
  local x = at[key]
  if x then vals[x] = val else
    keys[#keys + 1] = key
    vals[#keys] = val
    at[key] = #keys
  end
  pos = pos + 2
end
for _ = 1, tonumber(ARGV[12]) do
  local x = at[ARGV[pos]]
  if x then vals[x] = false end
  pos = pos + 1
end
local out = {}
for j = 1, #keys do
  if vals[j] then out[#out + 1] = keys[j] .. '\\29' .. vals[j] end
end
local after = table.concat(out, '\\31')
local limit = tonumber(ARGV[9])
if limit and #after + 2 > limit and #after > #data then return { 'too_large', #after + 2 } end
if ARGV[5] == '1' then h[14] = ARGV[6] end
if ARGV[7] == '1' then setOwner(m, h, ARGV[8]) end
h[5] = b36(num(h[5]) + 1)
local v = join(h, after)
redis.call('SET', skey(m), v, 'KEEPTTL')
return { 'live', 0, v }
`,
);

/**
 * ARGV: tag, now, grace, id member. Reply: {0} when no live session was ended, else {1, owner}
 * (the owner as the value writes it, '' for an anonymous session).
 */
export const DESTROY = script(
  'destroy',
  `
local m = ARGV[4]
local s, h = load(m)
if s ~= 'live' then
  if s ~= 'not_found' then drop(m, h, nil) end
  return { 0 }
end
drop(m, h, nil)
return { 1, h[6] }
`,
);

/** ARGV: tag, now, grace, user (encoded), except id member ('' = none). Reply: live members ended. */
export const DESTROY_USER = script(
  'destroyUser',
  `
local u, except = ARGV[4], ARGV[5]
local ended = {}
for _, m in ipairs(redis.call('ZRANGE', ukey(u), 0, -1)) do
  if m ~= except then
    local s, h = load(m)
    if s == 'live' then ended[#ended + 1] = m end
    drop(m, h, u)
  end
end
return ended
`,
);

/**
 * Ends the old session and stores the new one in one step, both in this bucket.
 * ARGV: tag, now, grace, old id member, limit, new id member, value.
 * Reply: {0} when the old session was not live, {1, evicted members} otherwise.
 */
export const REGENERATE = script(
  'regenerate',
  `
local s, h = load(ARGV[4])
if s ~= 'live' then
  if s ~= 'not_found' and s ~= 'corrupt' then drop(ARGV[4], h, nil) end
  return { 0 }
end
drop(ARGV[4], h, nil)
local evicted = {}
local limit = tonumber(ARGV[5])
local nh = parse(ARGV[7])
if nh[6] ~= '' and limit then makeRoom(nh[6], limit, evicted, ARGV[6]) end
add(ARGV[6], ARGV[7])
return { 1, evicted }
`,
);

/**
 * The first step of a regenerate whose new id is in another bucket: ends the old session if it is
 * live. ARGV: tag, now, grace, old id member. Reply: 1 when it was live (this caller won), else 0.
 */
export const CLAIM = script(
  'claim',
  `
local s, h = load(ARGV[4])
if s ~= 'not_found' and s ~= 'corrupt' then drop(ARGV[4], h, nil) end
if s == 'live' then return 1 end
return 0
`,
);

/** ARGV: tag, now, grace, user (encoded). Reply: member, value (false when corrupt), … Read only. */
export const LIST_USER = script(
  'listUser',
  `
local out = {}
for _, m in ipairs(redis.call('ZRANGE', ukey(ARGV[4]), 0, -1)) do
  local s, _, _, v = load(m)
  if s == 'live' then
    out[#out + 1] = m
    out[#out + 1] = v
  elseif s == 'corrupt' then
    out[#out + 1] = m
    out[#out + 1] = false
  end
end
return out
`,
);

/**
 * ARGV: tag, now, grace, count. Walks the bucket's activity index newest first, skipping expired
 * entries, up to count live sessions. Reply: {live total, {member, value (false when corrupt), …}}.
 * Read only; cost follows count.
 */
export const LIST = script(
  'list',
  `
local count = tonumber(ARGV[4])
local total = redis.call('ZCOUNT', EKEY, '(' .. fmt(NOW), '+inf')
local out = {}
local found, pos = 0, 0
while found < count do
  local ms = redis.call('ZREVRANGE', AKEY, pos, pos + 199)
  if #ms == 0 then break end
  for _, m in ipairs(ms) do
    if found >= count then break end
    local e = tonumber(redis.call('ZSCORE', EKEY, m))
    if e and e > NOW then
      found = found + 1
      out[#out + 1] = m
      local v = redis.pcall('GET', skey(m))
      if type(v) == 'string' then out[#out + 1] = v else out[#out + 1] = false end
    end
  end
  pos = pos + 200
end
return { total, out }
`,
);

/**
 * ARGV: tag, now, grace. The bucket's counters, and what to subtract for sessions that expired but
 * were not cleaned up yet. Read only; cost follows the number expired, never the number stored.
 * Reply: {active, HGETALL counters, {field, amount, …} to subtract}.
 */
export const STATS = script(
  'stats',
  `
local expired = redis.call('ZRANGEBYSCORE', EKEY, '-inf', fmt(NOW))
local sub, perUser = {}, {}
local function add1(field) sub[field] = (sub[field] or 0) + 1 end
for _, m in ipairs(expired) do
  local v = redis.pcall('GET', skey(m))
  local h = type(v) == 'string' and parse(v)
  if h then
    if h[6] ~= '' then perUser[h[6]] = (perUser[h[6]] or 0) + 1 else add1('anon') end
    add1('b:' .. h[9])
    add1('o:' .. h[11])
    add1('t:' .. h[13])
  end
end
for u, n in pairs(perUser) do
  if redis.call('ZCARD', ukey(u)) <= n then add1('users') end
end
local flat = {}
for field, n in pairs(sub) do
  flat[#flat + 1] = field
  flat[#flat + 1] = n
end
return { redis.call('ZCARD', EKEY) - #expired, redis.call('HGETALL', STKEY), flat }
`,
);

/** ARGV: tag, now, grace, batch size. Removes up to one batch of expired sessions; reply: count. */
export const CLEANUP = script(
  'cleanup',
  `
local ms = redis.call('ZRANGEBYSCORE', EKEY, '-inf', fmt(NOW), 'LIMIT', 0, tonumber(ARGV[4]))
for _, m in ipairs(ms) do drop(m, nil, nil) end
return #ms
`,
);

/**
 * Rate limiting. KEYS[1]: the counter hash {c: count, r: resetAt}. ARGV: now, windowMs.
 * The window is judged by the caller's clock; the key's TTL is set relative to it.
 */
export const RATE_HIT: LuaScript = (() => {
  const source = `
local k = KEYS[1]
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TYPE', k).ok
if t ~= 'none' and t ~= 'hash' then redis.call('DEL', k) end
local f = redis.call('HMGET', k, 'c', 'r')
local r = tonumber(f[2])
local c
if r and r > now and tonumber(f[1]) then
  c = redis.call('HINCRBY', k, 'c', 1)
else
  r = now + window
  c = 1
  redis.call('HSET', k, 'c', 1, 'r', string.format('%.0f', r))
end
redis.call('PEXPIRE', k, string.format('%.0f', math.max(1, r - now)))
return { c, string.format('%.0f', r) }
`;
  return {
    name: 'rateHit',
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
})();

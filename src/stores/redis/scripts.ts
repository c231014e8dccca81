/**
 * The Lua scripts of the Redis store: each store operation is one script, so it is one round trip
 * and atomic on the server. Every script gets the same first three arguments (key base, now,
 * ttl grace) and starts with the prelude (./lua-prelude.ts), which owns this data layout:
 *
 *   <base>s:<id>    hash: one field per record attribute, one `d:<key>` field per data key (JSON)
 *   <base>u:<user>  sorted set: the user's session ids scored by lastSeenAt
 *   <base>e         sorted set: every session id scored by its expiry (min of idle and absolute)
 *   <base>a         sorted set: every session id scored by lastSeenAt (admin listing)
 *   <base>st        hash: counters (anon, users, b:<browser>, o:<os>, t:<device type>)
 *
 * `<base>` is `{<prefix>}`: the whole deployment shares one hash slot, so every script's keys live
 * on one Cluster node (see the README for the trade-off). Lua never parses JSON: data values are
 * opaque strings, so numbers, empty arrays and unicode round-trip exactly.
 */
import { createHash } from 'node:crypto';
import { PRELUDE } from './lua-prelude.js';

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): LuaScript {
  const source = `${PRELUDE}\n${body}`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** ARGV: base, now, grace, limit ('' = none), userId ('' = anonymous), then the add() layout. */
export const CREATE = script(
  'create',
  `
local evicted = {}
local limit = tonumber(ARGV[4])
if ARGV[5] ~= '' and limit then makeRoom(ARGV[5], limit, evicted, ARGV[6]) end
add(6)
return evicted
`,
);

/**
 * ARGV: base, now, grace, id, touchAfter ('' = read only), idleTimeout.
 * Reply: {state} on a miss, {'live', touched 0|1, HGETALL} on a hit.
 */
export const GET = script(
  'get',
  `
local id = ARGV[4]
local s = state(id)
if s == 'not_found' or s == 'corrupt' then return { s } end
if s ~= 'live' then drop(id, nil) return { s } end
local k = skey(id)
local touched = 0
local touchAfter = tonumber(ARGV[5])
if touchAfter then
  local f = redis.call('HMGET', k, 'l', 'a', 'u')
  if NOW - tonumber(f[1]) >= touchAfter then
    local e = NOW + tonumber(ARGV[6])
    local a = tonumber(f[2])
    if a and a < e then e = a end
    redis.call('HSET', k, 'l', fmt(NOW), 'i', fmt(e))
    redis.call('HINCRBY', k, 'v', 1)
    redis.call('PEXPIRE', k, fmt(math.max(1, e - NOW + GRACE)))
    redis.call('ZADD', EKEY, fmt(e), id)
    redis.call('ZADD', AKEY, fmt(NOW), id)
    if f[3] then redis.call('ZADD', ukey(f[3]), fmt(NOW), id) end
    touched = 1
  end
end
return { 'live', touched, redis.call('HGETALL', k) }
`,
);

/**
 * ARGV: base, now, grace, id, has csrf ('1'/'0'), csrf, owner ('0' unchanged, '1' anonymous, '2'
 * the next argument), owner id, max data bytes ('' = no limit), replace ('1': the set pairs become
 * the whole data), set count, unset count, then the set field/value pairs (fields already
 * `d:`-prefixed), then the unset fields. Reply as GET, or {'too_large', bytes} when the data would
 * grow past the limit (nothing is written then).
 */
export const PATCH = script(
  'patch',
  `
local id = ARGV[4]
local s = state(id)
if s == 'not_found' or s == 'corrupt' then return { s } end
if s ~= 'live' then drop(id, nil) return { s } end
local k = skey(id)
local replace = ARGV[10] == '1'
local nset, nunset = tonumber(ARGV[11]), tonumber(ARGV[12])
local setFrom, unsetFrom = 13, 13 + 2 * nset
local limit = tonumber(ARGV[9])
if limit then
  local before, after = dataSizes(k, setFrom, nset, unsetFrom, nunset, replace)
  if after > limit and after > before then return { 'too_large', after } end
end
if replace then dropData(k) end
hsetChunked(k, setFrom, unsetFrom - 1)
local pos, last = unsetFrom, unsetFrom + nunset - 1
while pos <= last do
  local stop = math.min(pos + 199, last)
  redis.call('HDEL', k, unpack(ARGV, pos, stop))
  pos = stop + 1
end
if ARGV[5] == '1' then redis.call('HSET', k, 'x', ARGV[6]) end
if ARGV[7] == '1' then setOwner(id, false) elseif ARGV[7] == '2' then setOwner(id, ARGV[8]) end
redis.call('HINCRBY', k, 'v', 1)
return { 'live', 0, redis.call('HGETALL', k) }
`,
);

/**
 * ARGV: base, now, grace, id. Reply: {0} when no live session was ended, else {1, owner} (the
 * user id; {1} alone for an anonymous session).
 */
export const DESTROY = script(
  'destroy',
  `
local id = ARGV[4]
local s = state(id)
if s ~= 'live' then
  if s ~= 'not_found' then drop(id, nil) end
  return { 0 }
end
local owner = redis.call('HGET', skey(id), 'u')
drop(id, nil)
if owner then return { 1, owner } end
return { 1 }
`,
);

/** ARGV: base, now, grace, userId, exceptId ('' = none). Reply: the live ids ended. */
export const DESTROY_USER = script(
  'destroyUser',
  `
local u, except = ARGV[4], ARGV[5]
local ended = {}
for _, id in ipairs(redis.call('ZRANGE', ukey(u), 0, -1)) do
  if id ~= except then
    if state(id) == 'live' then ended[#ended + 1] = id end
    drop(id, u)
  end
end
return ended
`,
);

/**
 * ARGV: base, now, grace, oldId, limit, new userId, then the add() layout.
 * Reply: {0} when the old session was not live, {1, evicted ids} otherwise.
 */
export const REGENERATE = script(
  'regenerate',
  `
local s = state(ARGV[4])
if s ~= 'live' then
  if s ~= 'not_found' and s ~= 'corrupt' then drop(ARGV[4], nil) end
  return { 0 }
end
drop(ARGV[4], nil)
local evicted = {}
local limit = tonumber(ARGV[5])
if ARGV[6] ~= '' and limit then makeRoom(ARGV[6], limit, evicted, ARGV[7]) end
add(7)
return { 1, evicted }
`,
);

/** ARGV: base, now, grace, userId. Reply: id, HGETALL (or false when corrupt), … Read only. */
export const LIST_USER = script(
  'listUser',
  `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', ukey(ARGV[4]), 0, -1)) do
  local s = state(id)
  if s == 'live' then
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGETALL', skey(id))
  elseif s == 'corrupt' then
    out[#out + 1] = id
    out[#out + 1] = false
  end
end
return out
`,
);

/**
 * ARGV: base, now, grace, offset, limit. Walks the activity index newest first, skipping expired
 * entries. Reply: {total live, {id, HGETALL, …}}. Read only; cost follows offset + limit.
 */
export const LIST = script(
  'list',
  `
local offset, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local total = redis.call('ZCOUNT', EKEY, '(' .. fmt(NOW), '+inf')
local out = {}
local found, pos = 0, 0
while found < offset + limit do
  local ids = redis.call('ZREVRANGE', AKEY, pos, pos + 199)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if found >= offset + limit then break end
    local e = tonumber(redis.call('ZSCORE', EKEY, id))
    if e and e > NOW then
      found = found + 1
      if found > offset then
        out[#out + 1] = id
        if redis.call('TYPE', skey(id)).ok == 'hash' then
          out[#out + 1] = redis.call('HGETALL', skey(id))
        else
          out[#out + 1] = false
        end
      end
    end
  end
  pos = pos + 200
end
return { total, out }
`,
);

/**
 * ARGV: base, now, grace. The counters, and what to subtract for sessions that expired but were not
 * cleaned up yet. Read only; cost follows the number expired, never the number stored.
 * Reply: {active, HGETALL counters, {field, amount, …} to subtract}.
 */
export const STATS = script(
  'stats',
  `
local expired = redis.call('ZRANGEBYSCORE', EKEY, '-inf', fmt(NOW))
local sub, perUser = {}, {}
local function add1(field) sub[field] = (sub[field] or 0) + 1 end
for _, id in ipairs(expired) do
  local k = skey(id)
  if redis.call('TYPE', k).ok == 'hash' then
    local f = redis.call('HMGET', k, 'u', 'db', 'do', 'dt')
    if f[1] then perUser[f[1]] = (perUser[f[1]] or 0) + 1 else add1('anon') end
    add1('b:' .. (f[2] or 'unknown'))
    add1('o:' .. (f[3] or 'unknown'))
    add1('t:' .. (f[4] or 'unknown'))
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

/** ARGV: base, now, grace, batch size. Removes up to one batch of expired sessions; reply: count. */
export const CLEANUP = script(
  'cleanup',
  `
local ids = redis.call('ZRANGEBYSCORE', EKEY, '-inf', fmt(NOW), 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do drop(id, nil) end
return #ids
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

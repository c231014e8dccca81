/**
 * The Lua prelude every Redis session script starts with: it owns the data layout (see
 * ./scripts.ts) and the steps several scripts share — a session's state at NOW, removing one with
 * its index entries and counts, making room under the per-user limit, adding one, moving one to
 * another owner, and measuring its data as JSON for `maxDataBytes`.
 */
import { LOGIN_COUNT_LUA } from './server-info.js';

export const PRELUDE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local GRACE = tonumber(ARGV[3])
local EKEY, AKEY, STKEY = P .. 'e', P .. 'a', P .. 'st'
local function skey(id) return P .. 's:' .. id end
local function ukey(u) return P .. 'u:' .. u end
-- Integers as plain digits: tostring() would print 1.7e+12.
local function fmt(n) return string.format('%.0f', n) end

local function bump(field, by)
  if redis.call('HINCRBY', STKEY, field, by) <= 0 then redis.call('HDEL', STKEY, field) end
end

-- f = HMGET(u, db, do, dt) of one session; by = 1 when it is added, -1 when removed
local function tally(f, by)
  if not f[1] then bump('anon', by) end
  bump('b:' .. (f[2] or 'unknown'), by)
  bump('o:' .. (f[3] or 'unknown'), by)
  bump('t:' .. (f[4] or 'unknown'), by)
end

-- 'live', 'not_found', 'corrupt', 'expired_idle' or 'expired_absolute' at NOW
local function state(id)
  local k = skey(id)
  local t = redis.call('TYPE', k).ok
  if t == 'none' then return 'not_found' end
  if t ~= 'hash' then return 'corrupt' end
  local f = redis.call('HMGET', k, 'i', 'a', 'l')
  local i, a = tonumber(f[1]), tonumber(f[2])
  if not i or not tonumber(f[3]) then return 'corrupt' end
  if a and NOW >= a then return 'expired_absolute' end
  if NOW >= i then return 'expired_idle' end
  return 'live'
end

-- Removes id from user u's index (the users counter follows), and adds it scored by lastSeen.
local function unindexUser(u, id)
  local uk = ukey(u)
  if redis.call('ZREM', uk, id) == 1 and redis.call('EXISTS', uk) == 0 then bump('users', -1) end
end
local function indexUser(u, id, lastSeen)
  local uk = ukey(u)
  if redis.call('EXISTS', uk) == 0 then bump('users', 1) end
  redis.call('ZADD', uk, lastSeen, id)
end

-- Removes a session, its index entries and its counts. knownUser names the owner when the caller
-- holds it (a user-index member whose hash Redis already dropped by TTL). True if a hash existed.
local function drop(id, knownUser)
  local k = skey(id)
  redis.call('ZREM', EKEY, id)
  redis.call('ZREM', AKEY, id)
  local u = knownUser
  local t = redis.call('TYPE', k).ok
  if t == 'hash' then
    local f = redis.call('HMGET', k, 'u', 'db', 'do', 'dt')
    tally(f, -1)
    if f[1] then u = f[1] end
  end
  if t ~= 'none' then redis.call('DEL', k) end
  if u then unindexUser(u, id) end
  return t == 'hash'
end

-- Evicts the user's least recently active live sessions so that one more fits under limit.
-- keep is the id being created: it replaces its own earlier record and never counts or goes.
local function makeRoom(u, limit, evicted, keep)
  local uk = ukey(u)
  local members = redis.call('ZRANGE', uk, 0, -1, 'WITHSCORES')
  local live = {}
  for j = 1, #members, 2 do
    local id = members[j]
    local s = state(id)
    if id == keep then
      -- replaced by add()
    elseif s == 'live' then live[#live + 1] = { id = id, s = tonumber(members[j + 1]) }
    elseif s ~= 'corrupt' then drop(id, u) end
  end
  -- least recently active first; on a tie the greater id goes first (the memory store's order)
  table.sort(live, function(x, y)
    if x.s ~= y.s then return x.s < y.s end
    return x.id > y.id
  end)
  local excess = math.min(#live - (limit - 1), #live)
  for j = 1, excess do
    drop(live[j].id, u)
    evicted[#evicted + 1] = live[j].id
  end
end

local function hsetChunked(k, from, to)
  local pos = from
  while pos <= to do
    local stop = math.min(pos + 199, to)
    redis.call('HSET', k, unpack(ARGV, pos, stop))
    pos = stop + 1
  end
end

-- ARGV from at: id, lastSeenAt, expiresAt, field count, then field/value pairs. Whatever the id
-- held before (live, expired or corrupt) is replaced whole.
${LOGIN_COUNT_LUA}
local function add(at)
  local id, l, e, n = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local k = skey(id)
  if redis.call('EXISTS', k) == 1 then drop(id, nil) end
  hsetChunked(k, at + 4, at + 3 + 2 * n)
  redis.call('PEXPIRE', k, fmt(math.max(1, e - NOW + GRACE)))
  redis.call('ZADD', EKEY, fmt(e), id)
  redis.call('ZADD', AKEY, l, id)
  local f = redis.call('HMGET', k, 'u', 'db', 'do', 'dt')
  if f[1] then indexUser(f[1], id, l) end
  tally(f, 1)
  countLogin(k)
end

-- Moves a live session to owner u (false: anonymous): the user indexes and counters follow.
local function setOwner(id, u)
  local k = skey(id)
  local f = redis.call('HMGET', k, 'u', 'l')
  local old = f[1]
  if old == u then return end
  if old then unindexUser(old, id) else bump('anon', -1) end
  if u then
    indexUser(u, id, f[2])
    redis.call('HSET', k, 'u', u)
  else
    redis.call('HDEL', k, 'u')
    bump('anon', 1)
  end
end

-- Removes every data field of hash k (a patch that replaces the data).
local function dropData(k)
  local fields = {}
  for _, f in ipairs(redis.call('HKEYS', k)) do
    if string.sub(f, 1, 2) == 'd:' then fields[#fields + 1] = f end
  end
  for j = 1, #fields, 200 do
    redis.call('HDEL', k, unpack(fields, j, math.min(j + 199, #fields)))
  end
end

-- Bytes of a data key as JSON.stringify writes it: quoted, with " and \\ and control characters
-- escaped (\\b \\f \\n \\r \\t take two bytes, the others six); other bytes are kept as they are.
local function keyBytes(key)
  local n = #key + 2
  for j = 1, #key do
    local b = string.byte(key, j)
    if b == 34 or b == 92 or b == 8 or b == 9 or b == 10 or b == 12 or b == 13 then n = n + 1
    elseif b < 32 then n = n + 5 end
  end
  return n
end

-- The JSON size of one data member ("key":value) stored in field f (with its 'd:' prefix).
local function memberBytes(f, valueBytes) return keyBytes(string.sub(f, 3)) + 1 + valueBytes end

-- What the data of hash k would take as JSON before and after setting the field/value pairs
-- ARGV[setFrom..] (over nothing when replace) and removing the fields ARGV[unsetFrom..]: two
-- sizes, as JSON.stringify counts.
local function dataSizes(k, setFrom, nset, unsetFrom, nunset, replace)
  local members, count, total = {}, 0, 0
  for _, f in ipairs(redis.call('HKEYS', k)) do
    if string.sub(f, 1, 2) == 'd:' then
      local b = memberBytes(f, redis.call('HSTRLEN', k, f))
      members[f] = b
      count = count + 1
      total = total + b
    end
  end
  local before = 2 + total + math.max(0, count - 1)
  if replace then members, count, total = {}, 0, 0 end
  for j = 0, nset - 1 do
    local f, v = ARGV[setFrom + 2 * j], ARGV[setFrom + 2 * j + 1]
    if members[f] then total = total - members[f] else count = count + 1 end
    members[f] = memberBytes(f, #v)
    total = total + members[f]
  end
  for j = 0, nunset - 1 do
    local f = ARGV[unsetFrom + j]
    if members[f] then
      total = total - members[f]
      count = count - 1
      members[f] = nil
    end
  end
  return before, 2 + total + math.max(0, count - 1)
end
`;

/**
 * The Lua prelude every Redis session script starts with: it owns the data layout of one bucket
 * (see ./scripts.ts and ./record-value.ts) and the steps several scripts share — reading a
 * session's value and state at NOW, removing one with its index entries and counts, making room
 * under the per-user limit, adding one, moving one to another owner, and editing the data part.
 * Separators: \\31 between fields and data members, \\30 between header and data, \\29 between a
 * data member's key and value.
 */
import { HOUR_MS, LOGIN_HOURS, MINUTE_MS } from '../../core/analytics.js';

/** How long a bucket's login hash lives after its hour starts (the 24 hours shown, and one spare). */
export const LOGIN_KEY_LIFETIME = (LOGIN_HOURS + 1) * HOUR_MS;

export const PRELUDE = `
local T = ARGV[1]
local NOW = tonumber(ARGV[2])
local GRACE = tonumber(ARGV[3])
local EKEY, AKEY, STKEY = T .. 'e', T .. 'a', T .. 'st'
local function skey(m) return T .. 's:' .. m end
local function ukey(u) return T .. 'u:' .. u end
-- Integers as plain digits: tostring() would print 1.7e+12.
local function fmt(n) return string.format('%.0f', n) end
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  n = math.floor(n)
  local s = ''
  repeat
    local d = n % 36
    s = string.sub(DIGITS, d + 1, d + 1) .. s
    n = (n - d) / 36
  until n == 0
  return s
end
local function num(f) if f == nil or f == '' then return nil end return tonumber(f, 36) end

-- Header fields: 1 createdAt, 2 lastSeenAt, 3 idleExpiresAt, 4 absoluteExpiresAt, 5 version,
-- 6 user, 7 ip, 8 user agent, 9 browser, 10 its version, 11 os, 12 its version, 13 device type,
-- 14 csrf. Returns the header and the data part, or nil when v is not a layout-2 value.
local function parse(v)
  local cut = string.find(v, '\\30', 1, true)
  if not cut then return nil end
  local h = {}
  for f in string.gmatch(string.sub(v, 1, cut - 1) .. '\\31', '([^\\31]*)\\31') do h[#h + 1] = f end
  if #h ~= 14 then return nil end
  return h, string.sub(v, cut + 1)
end
local function join(h, data) return table.concat(h, '\\31') .. '\\30' .. data end

-- The moment a session stops being live: its idle expiry, capped by the absolute one.
local function expiry(h)
  local i, a = num(h[3]), num(h[4])
  if a and a < i then return a end
  return i
end

-- A session's state at NOW ('live', 'not_found', 'corrupt', 'expired_idle', 'expired_absolute'),
-- its header, data part and value.
local function load(m)
  local v = redis.pcall('GET', skey(m))
  if not v then return 'not_found' end
  if type(v) ~= 'string' then return 'corrupt' end
  local h, data = parse(v)
  if not h then return 'corrupt' end
  local i, a = num(h[3]), num(h[4])
  if not i or not num(h[2]) or not num(h[5]) or (h[4] ~= '' and not a) then return 'corrupt' end
  if a and NOW >= a then return 'expired_absolute', h, data, v end
  if NOW >= i then return 'expired_idle', h, data, v end
  return 'live', h, data, v
end

local function bump(field, by)
  if redis.call('HINCRBY', STKEY, field, by) <= 0 then redis.call('HDEL', STKEY, field) end
end

-- Counts of one session; by = 1 when it is added, -1 when removed. A null browser or os is ''.
local function tally(h, by)
  if h[6] == '' then bump('anon', by) end
  bump('b:' .. h[9], by)
  bump('o:' .. h[11], by)
  bump('t:' .. h[13], by)
end

-- Removes m from user u's index in this bucket (the users counter follows), or adds it.
local function unindexUser(u, m)
  local uk = ukey(u)
  if redis.call('ZREM', uk, m) == 1 and redis.call('EXISTS', uk) == 0 then bump('users', -1) end
end
local function indexUser(u, m)
  if redis.call('ZADD', ukey(u), 0, m) == 1 and redis.call('ZCARD', ukey(u)) == 1 then
    bump('users', 1)
  end
end

-- Removes a session, its index entries and its counts. h is its header when the caller loaded it
-- (nil: read here); knownUser names the owner when the caller holds it (a user-index member whose
-- value Redis already dropped by TTL).
local function drop(m, h, knownUser)
  local k = skey(m)
  redis.call('ZREM', EKEY, m)
  redis.call('ZREM', AKEY, m)
  local existed = true
  if not h then
    local v = redis.pcall('GET', k)
    existed = v ~= false
    if type(v) == 'string' then h = parse(v) end
  end
  local u = knownUser
  if h then
    tally(h, -1)
    if h[6] ~= '' then u = h[6] end
  end
  if existed then redis.call('DEL', k) end
  if u then unindexUser(u, m) end
end

-- x goes before y on a tie of last activity: the greater id first, as bytes (the memory store's
-- order). Members are base64url of the id's bytes (compared by digit value) or '~' and the id.
local B64 = {}
do
  local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for j = 1, 64 do B64[string.byte(alphabet, j)] = j end
end
local function greaterId(x, y)
  if string.byte(x) == 126 or string.byte(y) == 126 then return x > y end
  for j = 1, math.min(#x, #y) do
    local a, b = B64[string.byte(x, j)] or 0, B64[string.byte(y, j)] or 0
    if a ~= b then return a > b end
  end
  return #x > #y
end

-- Evicts user u's least recently active live sessions in this bucket so that one more fits under
-- limit. keep is the session being created: it replaces its own earlier value and never counts.
local function makeRoom(u, limit, evicted, keep)
  local live = {}
  for _, m in ipairs(redis.call('ZRANGE', ukey(u), 0, -1)) do
    if m ~= keep then
      local s, h = load(m)
      if s == 'live' then live[#live + 1] = { m = m, l = num(h[2]) }
      elseif s ~= 'corrupt' then drop(m, h, u) end
    end
  end
  table.sort(live, function(x, y)
    if x.l ~= y.l then return x.l < y.l end
    return greaterId(x.m, y.m)
  end)
  for j = 1, math.min(#live - (limit - 1), #live) do
    drop(live[j].m, nil, u)
    evicted[#evicted + 1] = live[j].m
  end
end

-- Counts a login (a session stored for a user with createdAt NOW: core/analytics.ts) in this
-- bucket's hash of the clock hour, <tag>lg:<hour start>, a field per minute start. The hash
-- expires ${LOGIN_KEY_LIFETIME} ms after its hour starts, set when a minute's field appears.
local function countLogin(h)
  if h[6] == '' or num(h[1]) ~= NOW then return end
  local hour = NOW - NOW % ${HOUR_MS}
  local lk = T .. 'lg:' .. fmt(hour)
  if redis.call('HINCRBY', lk, fmt(NOW - NOW % ${MINUTE_MS}), 1) == 1 then
    redis.call('PEXPIRE', lk, fmt(math.max(1, hour + ${LOGIN_KEY_LIFETIME} - NOW)))
  end
end

-- Stores value v as session m, replacing whatever m held (live, expired or corrupt), and counts
-- it when it is a login.
local function add(m, v)
  local h = parse(v)
  local k = skey(m)
  if redis.call('EXISTS', k) == 1 then drop(m, nil, nil) end
  local e = expiry(h)
  redis.call('SET', k, v, 'PX', fmt(math.max(1, e - NOW + GRACE)))
  redis.call('ZADD', EKEY, fmt(e), m)
  redis.call('ZADD', AKEY, fmt(num(h[2])), m)
  if h[6] ~= '' then indexUser(h[6], m) end
  tally(h, 1)
  countLogin(h)
end

-- Moves live session m (header h) to owner u ('': anonymous): the user indexes and counters follow.
local function setOwner(m, h, u)
  local old = h[6]
  if old == u then return end
  if old ~= '' then unindexUser(old, m) else bump('anon', -1) end
  if u ~= '' then indexUser(u, m) else bump('anon', 1) end
  h[6] = u
end

-- The data part as its members' keys and values in order, and each key's position; nil when a
-- member has no key/value separator.
local function members(data)
  local keys, vals, at = {}, {}, {}
  if data == '' then return keys, vals, at end
  for mem in string.gmatch(data .. '\\31', '([^\\31]*)\\31') do
    local cut = string.find(mem, '\\29', 1, true)
    if not cut then return nil end
    local key = string.sub(mem, 1, cut - 1)
    keys[#keys + 1] = key
    vals[#keys] = string.sub(mem, cut + 1)
    at[key] = #keys
  end
  return keys, vals, at
end
`;

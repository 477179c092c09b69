-- prelude.lua: shared helpers, prepended to every script at build time.
-- Key layout: docs/redis-schema.md. T = "project/topic", S = "project/sub".
local function tkey(t, suffix) return 'rn:v1:{' .. t .. '}:' .. suffix end
local function skey(s, suffix)
  if suffix then return 'rn:v1:sub:{' .. s .. '}:' .. suffix end
  return 'rn:v1:sub:{' .. s .. '}'
end
local function split_name(s) return s:match('^([^/]+)/(.+)$') end
local function id_ms(id) return tonumber(id:match('^(%d+)')) end

-- Runs cmd over items in chunks (Lua's unpack has a stack limit).
local function chunked(items, fn)
  for i = 1, #items, 500 do
    fn(unpack(items, i, math.min(i + 499, #items)))
  end
end

-- retryPolicy backoff after attempt n of entry id: min * 2^(n-1) times a
-- jitter in [1, 1.25), at most max - so it stays within [min, max] and
-- messages that failed together do not come back in lockstep. The jitter
-- is derived from the id and attempt (scripts must be deterministic).
local function retry_backoff(id, n, rmin, rmax)
  local h = 0
  for i = 1, #id do h = (h * 31 + id:byte(i)) % 1000003 end
  local jitter = 1 + 0.25 * ((h + n * 7919) % 1000) / 1000
  return math.floor(math.min(rmax, rmin * 2 ^ (n - 1) * jitter))
end

-- Deletes subscription S and everything it owns (delete and expiry).
local function delete_sub(s)
  local topic = redis.call('HGET', skey(s), 'topic')
  if not topic then return false end
  if topic ~= '' then
    pcall(redis.call, 'XGROUP', 'DESTROY', tkey(topic, 'log'), s)
    redis.call('SREM', tkey(topic, 'subs'), s)
  end
  redis.call('DEL', skey(s), skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry'))
  local p, id = split_name(s)
  redis.call('ZREM', 'rn:v1:project:' .. p .. ':subs', id)
  redis.call('SREM', 'rn:v1:subs', s)
  redis.call('SREM', 'rn:v1:push', s)
  return true
end

-- Creates topic T (no-op if it exists): config hash, indexes, empty stream.
-- cfg is the Topic JSON as GET returns it. Returns true when created.
local function create_topic(t, cfg, ret, now)
  local h = tkey(t, 'topic')
  if redis.call('EXISTS', h) == 1 then return false end
  local p, id = split_name(t)
  redis.call('HSET', h, 'cfg', cfg, 'ret', ret, 'created', now)
  redis.call('ZADD', 'rn:v1:project:' .. p .. ':topics', 0, id)
  redis.call('SADD', 'rn:v1:topics', t)
  local log = tkey(t, 'log')
  redis.call('DEL', log, tkey(t, 'subs'))
  redis.call('XGROUP', 'CREATE', log, 'rn:init', '$', 'MKSTREAM')
  redis.call('XGROUP', 'DESTROY', log, 'rn:init')
  return true
end

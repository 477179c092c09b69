-- prelude.lua: shared helpers, prepended (after prelude_core.lua) to every
-- script at build time but those marked "-- PRELUDE: core".
-- The channel of IAM changes (keys.h KEYS_IAM_CHANNEL).
local IAM_CHANNEL = 'rn:v1:iam'
-- Audited scripts (their KEYS line ends with "audit-log"): the call's
-- audit entry goes to that stream in the same step as the change, and to
-- the topic of every log sink whose filter it matches (store/sinks.c).
-- The link appends (store/link.c send_script):
--   KEYS: ..., audit-log, then m sink topics' log streams
--   ARGV: ..., sinks-version, m, message-attributes, exported LogEntry
--         ('' when m is 0), stored entry ('' for none)
-- The log keeps the stored form (model/audit.c audit_entry_stored: what
-- entries:list derives again is left out); the sinks' topics get the whole
-- LogEntry. A broker whose sinks version is not Redis' gets {'AUDIT_STALE',
-- ver, {project, {name, json, ...}, ...}} before anything changes, reloads
-- its sinks and resends (the check embed.cmake puts after this prelude).
-- The streams are indexed for the sweeper's retention (keys.h KEYS_AUDIT,
-- KEYS_ALL_AUDITS, KEYS_SINKS_*).
local SINKS_VER, SINKS_PROJECTS = 'rn:v1:sinks:ver', 'rn:v1:sinks:projects'
local function sinks_hash(p) return 'rn:v1:project:' .. p .. ':sinks' end
local function audit_stale()
  if ARGV[#ARGV] == '' then return nil end
  local v = redis.call('GET', SINKS_VER) or '0'
  if v == ARGV[#ARGV - 4] then return nil end
  local all = {}
  for _, p in ipairs(redis.call('SMEMBERS', SINKS_PROJECTS)) do
    all[#all + 1] = p
    all[#all + 1] = redis.call('HGETALL', sinks_hash(p))
  end
  return {'AUDIT_STALE', v, all}
end
local function audit_add()
  local e = ARGV[#ARGV]
  if e == '' then return end
  local m = tonumber(ARGV[#ARGV - 3])
  local log = KEYS[#KEYS - m]
  -- A stream is indexed once, when its first entry makes it (streams stay
  -- when trimmed empty, and nothing takes them out of the index).
  if not redis.call('XADD', log, 'NOMKSTREAM', '*', 'e', e) then
    redis.call('XADD', log, '*', 'e', e)
    redis.call('SADD', 'rn:v1:audits', log)
  end
  for i = #KEYS - m + 1, #KEYS do
    -- A sink whose topic is gone exports nothing (NOMKSTREAM: no topic,
    -- no stream); its entries stay in the log.
    local t = KEYS[i]:match('^rn:v1:{(.+)}:log$')
    if topic_append(t, ARGV[#ARGV - 1], ARGV[#ARGV - 2], '') then
      redis.call('PUBLISH', 'rn:v1:wake:' .. t, '')
    end
  end
end
-- The index of every policy hash (keys.h KEYS_ALL_POLICIES).
local ALL_POLICIES = 'rn:v1:policies'
-- Service account E's hash and its key K (keys.h KEYS_SA, KEYS_SA_KEY).
local function sahash(e) return 'rn:v1:sa:{' .. e .. '}' end
local function sakey(e, k) return 'rn:v1:sa:{' .. e .. '}:key:' .. k end
local function split_name(s) return s:match('^([^/]+)/(.+)$') end
local function id_ms(id) return tonumber(id:match('^(%d+)')) end

-- The last-delivered id of subscription s's group on stream log ('0-0'
-- when it has none): XINFO GROUPS lists every group of the stream.
local function group_last(log, s)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', log)) do
    local name, ld
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] end
      if g[i] == 'last-delivered-id' then ld = g[i + 1] end
    end
    if name == s then return ld end
  end
  return '0-0'
end

-- Snapshot N ("P/N", keys.h KEYS_SNAP*) and its index entries; topic is
-- its topic ("P/T", '' once deleted).
local function delete_snapshot(n, topic)
  local p, id = split_name(n)
  redis.call('DEL', 'rn:v1:snap:{' .. n .. '}', 'rn:v1:snap:{' .. n .. '}:ids')
  redis.call('ZREM', 'rn:v1:project:' .. p .. ':snaps', id)
  if topic ~= '' then redis.call('SREM', tkey(topic, 'snaps'), n) end
end

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

-- Ordered delivery (enableMessageOrdering; the subscription's hash has
-- `ord` = '1'). Per orderingKey K of subscription S, in S's slot:
--   sub:{S}:ob:K  set: the ids of K's batch outstanding (leased, not acked)
--   sub:{S}:oq:K  list: K's later messages, read from the stream but held
--                 back (in the group's PEL, without a lease) until the
--                 batch is acked - then K is "ready" and the next pull
--                 delivers them as the next batch; each element is
--                 cmsgpack(id, data, attributes), so that needs no XRANGE
-- and sub:{S}:okid (hash id -> K of every outstanding keyed id),
-- sub:{S}:okr (set of ready keys), sub:{S}:okeys (set of keys with an ob
-- or oq, for cleanup).
local function ob_key(s, k) return skey(s, 'ob:' .. k) end
local function oq_key(s, k) return skey(s, 'oq:' .. k) end

-- a < b for stream entry ids ("ms-seq", compared as numbers).
local function id_less(a, b)
  local am, as = a:match('^(%d+)-(%d+)$')
  local bm, bs = b:match('^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end

-- Ids left their keys' batches for good (acked, dropped, dead-lettered):
-- a key whose batch is done makes its held-back messages ready. One call
-- per chunk of ids and per key, not per id.
local function ord_release_many(s, ids)
  local okid = skey(s, 'okid')
  local by_key, keys = {}, {}
  for i = 1, #ids, 500 do
    local part = {unpack(ids, i, math.min(i + 499, #ids))}
    local ks = redis.call('HMGET', okid, unpack(part))
    for j, k in ipairs(ks) do
      if k then
        if not by_key[k] then by_key[k] = {}; keys[#keys + 1] = k end
        local l = by_key[k]
        l[#l + 1] = part[j]
      end
    end
  end
  if #keys == 0 then return end
  chunked(ids, function(...) redis.call('HDEL', okid, ...) end)
  for _, k in ipairs(keys) do
    local ob = ob_key(s, k)
    chunked(by_key[k], function(...) redis.call('SREM', ob, ...) end)
    if redis.call('SCARD', ob) == 0 then
      if redis.call('LLEN', oq_key(s, k)) > 0 then
        redis.call('SADD', skey(s, 'okr'), k)
      else
        redis.call('SREM', skey(s, 'okeys'), k)
      end
    end
  end
end
local function ord_release(s, id) ord_release_many(s, {id}) end

-- Held: key -> ids joining its outstanding batch in this script run;
-- ord_flush writes them (one call per key and per chunk).
local function ord_hold_later(held, id, k)
  local l = held[k]
  if not l then l = {}; held[k] = l end
  l[#l + 1] = id
end
local function ord_flush(s, held)
  local okid, keys, pairs_ = skey(s, 'okid'), {}, {}
  for k, ids in pairs(held) do
    keys[#keys + 1] = k
    chunked(ids, function(...) redis.call('SADD', ob_key(s, k), ...) end)
    for _, id in ipairs(ids) do
      pairs_[#pairs_ + 1] = id
      pairs_[#pairs_ + 1] = k
    end
  end
  if #keys == 0 then return end
  chunked(pairs_, function(...) redis.call('HSET', okid, ...) end)
  chunked(keys, function(...) redis.call('SADD', skey(s, 'okeys'), ...) end)
end

-- Id (of key k) joins k's outstanding batch now.
local function ord_hold(s, id, k)
  local h = {}
  ord_hold_later(h, id, k)
  ord_flush(s, h)
end

-- Forgets S's ordering state (seek, delete, detach).
local function ord_reset(s)
  for _, k in ipairs(redis.call('SMEMBERS', skey(s, 'okeys'))) do
    redis.call('DEL', ob_key(s, k), oq_key(s, k))
  end
  redis.call('DEL', skey(s, 'okeys'), skey(s, 'okid'), skey(s, 'okr'))
end

-- True while delivery attempt n of entry id holds its lease: leased, not
-- due, not nacked (no retry mark), and n is the latest attempt (ack and
-- modack; exactly-once delivery refuses the others).
local function lease_held(lease, att, retry, id, n, now)
  local due = tonumber(redis.call('ZSCORE', lease, id))
  if not due or due <= now or redis.call('HGET', retry, id) == '1' then return false end
  return tonumber(redis.call('HGET', att, id) or '0') + 1 == n
end

-- Takes subscription S off its topic (delete, expiry, detach): its group
-- (or filtered stream and filter), its place in the topic's set, and its
-- delivery state - k holds its keys {hash, lease, att, retry}.
local function unhook_sub(s, k, topic, flt)
  if topic ~= '' then
    if flt and flt ~= '' then
      redis.call('DEL', flog(topic, s))
      redis.call('HDEL', tkey(topic, 'filters'), s)
    else
      pcall(redis.call, 'XGROUP', 'DESTROY', tkey(topic, 'log'), s)
    end
    redis.call('SREM', tkey(topic, 'subs'), s)
  end
  redis.call('DEL', k[2], k[3], k[4])
  ord_reset(s)
end

-- Deletes subscription S and everything it owns (delete and expiry); k
-- holds its keys {hash, lease, att, retry} (the KEYS of sub_delete).
local function delete_sub_keys(s, k)
  local f = redis.call('HMGET', k[1], 'topic', 'flt')
  local topic = f[1]
  if not topic then return false end
  unhook_sub(s, k, topic, f[2])
  redis.call('DEL', k[1])
  -- Its IAM policy goes with it (a new subscription of that name starts
  -- with none); every broker drops its cached copy.
  redis.call('SREM', ALL_POLICIES, skey(s, 'policy'))
  if redis.call('DEL', skey(s, 'policy')) == 1 then
    local p0, id0 = split_name(s)
    redis.call('PUBLISH', IAM_CHANNEL, 'policy:projects/' .. p0 .. '/subscriptions/' .. id0)
  end
  local p, id = split_name(s)
  redis.call('ZREM', 'rn:v1:project:' .. p .. ':subs', id)
  redis.call('SREM', 'rn:v1:subs', s)
  redis.call('SREM', 'rn:v1:push', s)
  return true
end
local function delete_sub(s)
  return delete_sub_keys(s, {skey(s), skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry')})
end

-- Creates topic T (no-op if it exists): config hash, indexes, empty stream.
-- cfg is the Topic JSON as GET returns it; k holds its keys {hash, log,
-- subs, project index, all topics} (the KEYS of topic_create). Returns
-- true when created.
local function create_topic_keys(t, k, cfg, ret, now)
  if redis.call('EXISTS', k[1]) == 1 then return false end
  local p, id = split_name(t)
  redis.call('HSET', k[1], 'cfg', cfg, 'ret', ret, 'created', now)
  redis.call('ZADD', k[4], 0, id)
  redis.call('SADD', k[5], t)
  redis.call('DEL', k[2], k[3])
  redis.call('XGROUP', 'CREATE', k[2], 'rn:init', '$', 'MKSTREAM')
  redis.call('XGROUP', 'DESTROY', k[2], 'rn:init')
  return true
end
local function create_topic(t, cfg, ret, now)
  local p = split_name(t)
  return create_topic_keys(t, {tkey(t, 'topic'), tkey(t, 'log'), tkey(t, 'subs'),
    'rn:v1:project:' .. p .. ':topics', 'rn:v1:topics'}, cfg, ret, now)
end

-- trim: ARGV t, now-ms. Drops messages older than the longest retention of
-- KEYS: topic-hash topic-subs topic-log audit-log
-- the topic and its subscriptions, with a System Event audit entry when it
-- removed any (and expired snapshots; a live snapshot keeps the messages it
-- holds). Returns the number of entries removed.
local t = ARGV[1]
local tret = redis.call('HGET', KEYS[1], 'ret')
if not tret then return 0 end
local keep = tonumber(tret)
local filtered = {}
for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local f = redis.call('HMGET', skey(s), 'ret', 'flt')
  local r = tonumber(f[1] or '0')
  if r > keep then keep = r end
  if f[2] and f[2] ~= '' then filtered[#filtered + 1] = s end
end
local now = tonumber(ARGV[2])
local from = now - keep
-- A live snapshot keeps what it holds (from its oldest unacked message on);
-- an expired one goes.
for _, n in ipairs(redis.call('SMEMBERS', tkey(t, 'snaps'))) do
  local f = redis.call('HMGET', 'rn:v1:snap:{' .. n .. '}', 'expire', 'oldest')
  if not f[1] or tonumber(f[1]) <= now then
    delete_snapshot(n, t)
  elseif tonumber(f[2]) < from then
    from = tonumber(f[2])
  end
end
local minid = tostring(from)
local n = redis.call('XTRIM', KEYS[3], 'MINID', minid)
-- A filtered subscription's stream holds copies of the log's entries.
for _, s in ipairs(filtered) do redis.call('XTRIM', flog(t, s), 'MINID', minid) end
if n > 0 then audit_add() end
return n

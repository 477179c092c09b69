-- trim: ARGV t, now-ms. Drops messages older than the longest retention of
-- KEYS: topic-hash topic-subs topic-log audit-log
-- the topic and its subscriptions, with a System Event audit entry when it
-- removed any. Returns the number of entries removed.
local t = ARGV[1]
local tret = redis.call('HGET', KEYS[1], 'ret')
if not tret then return 0 end
local keep = tonumber(tret)
for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local r = tonumber(redis.call('HGET', skey(s), 'ret') or '0')
  if r > keep then keep = r end
end
local n = redis.call('XTRIM', KEYS[3], 'MINID', tostring(tonumber(ARGV[2]) - keep))
if n > 0 then audit_add() end
return n

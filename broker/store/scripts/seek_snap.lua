-- seek_snap: ARGV s, now-ms
-- KEYS: sub lease att retry snap snap-ids
-- Pub/Sub's seek to a snapshot: the subscription's acknowledgment state
-- becomes the snapshot's - what it held unacked is due again at once, what
-- was published after its position is unacked, everything else acked. The
-- snapshot's topic must be the subscription's. Replies {'OK'} or
-- {'NOT_FOUND' | 'SNAPSHOT_NOT_FOUND' | 'DETACHED' | 'TOPIC_MISMATCH'}.
local s, now = ARGV[1], tonumber(ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'topic', 'flt', 'detached', 'ord')
local topic = f[1]
if not topic then return {'NOT_FOUND'} end
if f[3] == '1' then return {'DETACHED'} end
local sn = redis.call('HMGET', KEYS[5], 'topic', 'last', 'expire')
if not sn[1] or tonumber(sn[3]) <= now then return {'SNAPSHOT_NOT_FOUND'} end
if topic == '' or sn[1] ~= topic then return {'TOPIC_MISMATCH'} end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local log = sub_log(topic, s, f[2])
while true do
  local p = redis.call('XPENDING', log, s, '-', '+', 1000)
  if #p == 0 then break end
  local ids = {}
  for i, e in ipairs(p) do ids[i] = e[1] end
  redis.call('XACK', log, s, unpack(ids))
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'lr', '0-0') -- the pending list is empty (pull.lua)
if f[4] == '1' then ord_reset(s) end
redis.call('XGROUP', 'SETID', log, s, sn[2])
-- The snapshot's unacked messages are leases due now: the next pull
-- delivers them (those trimmed meanwhile are dropped there).
local due = {}
local held = redis.call('ZRANGE', KEYS[6], 0, -1)
table.sort(held, id_less)
for i, id in ipairs(held) do
  due[#due + 1] = now - #held + i -- in id order (ordered delivery)
  due[#due + 1] = id
end
chunked(due, function(...) redis.call('ZADD', KEYS[2], ...) end)
redis.call('PUBLISH', 'rn:v1:wake:' .. topic, '')
return {'OK'}

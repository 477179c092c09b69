-- snap_create: ARGV snapshot (P/N), subscription (P/S), now-ms, labels-json or '', project, id
-- KEYS: snap snap-ids sub sub-lease project-snaps audit-log
-- Pub/Sub's CreateSnapshot: captures the subscription's acknowledgment
-- state - the messages it holds unacked (its leases, nacked and expired
-- ones included) and its position (the group's last-delivered id: all
-- that comes after is unacked too). It expires 7 days after the oldest
-- unacked message it holds; one that would expire within an hour is
-- refused (SNAPSHOT_TOO_OLD). Replies {'OK', topic, expire-ms} or
-- {'ALREADY_EXISTS' | 'SUB_NOT_FOUND' | 'TOPIC_GONE' | 'DETACHED' |
-- 'SNAPSHOT_TOO_OLD'}.
local n, s, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then return {'ALREADY_EXISTS'} end
local f = redis.call('HMGET', KEYS[3], 'topic', 'flt', 'detached')
local topic = f[1]
if not topic then return {'SUB_NOT_FOUND'} end
if topic == '' then return {'TOPIC_GONE'} end
if f[3] == '1' then return {'DETACHED'} end
local log = sub_log(topic, s, f[2])
local last = group_last(log, s)
local held = redis.call('ZRANGE', KEYS[4], 0, -1)
local oldest = now
for _, id in ipairs(held) do
  if id_ms(id) < oldest then oldest = id_ms(id) end
end
local nxt = redis.call('XRANGE', log, '(' .. last, '+', 'COUNT', 1)
if #nxt > 0 and id_ms(nxt[1][1]) < oldest then oldest = id_ms(nxt[1][1]) end
local expire = oldest + 7 * 86400000
if expire - now < 3600000 then return {'SNAPSHOT_TOO_OLD'} end
redis.call('HSET', KEYS[1], 'topic', topic, 'sub', s, 'last', last, 'created', ARGV[3],
  'oldest', tostring(oldest), 'expire', tostring(expire), 'labels', ARGV[4])
local ids = {}
for _, id in ipairs(held) do
  ids[#ids + 1] = id_ms(id)
  ids[#ids + 1] = id
end
chunked(ids, function(...) redis.call('ZADD', KEYS[2], ...) end)
redis.call('ZADD', KEYS[5], 0, ARGV[6])
redis.call('SADD', tkey(topic, 'snaps'), n)
audit_add()
return {'OK', topic, tostring(expire)}

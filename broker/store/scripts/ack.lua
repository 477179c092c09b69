-- ack: ARGV s, now-ms, entry-id... Idempotent; unknown ids are ignored.
-- KEYS: sub lease att retry
local s = ARGV[1]
local f = redis.call('HMGET', KEYS[1], 'topic', 'flt', 'detached', 'ord')
local topic = f[1]
if not topic then return {'NOT_FOUND'} end
if f[3] == '1' then return {'DETACHED'} end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if topic == '' or #ARGV < 3 then return {'OK'} end
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local log, lease, att, retry = sub_log(topic, s, f[2]), KEYS[2], KEYS[3], KEYS[4]
-- The attempt and retry hashes exist only after redeliveries.
local has_att = redis.call('EXISTS', att) == 1
local has_retry = redis.call('EXISTS', retry) == 1
chunked(ids, function(...)
  redis.call('XACK', log, s, ...)
  redis.call('ZREM', lease, ...)
  if has_att then redis.call('HDEL', att, ...) end
  if has_retry then redis.call('HDEL', retry, ...) end
end)
-- Ordered: the acked ids leave their keys' batches.
if f[4] == '1' then
  for _, id in ipairs(ids) do ord_release(s, id) end
end
return {'OK'}

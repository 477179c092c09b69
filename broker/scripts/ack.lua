-- ack: ARGV s, now-ms, entry-id... Idempotent; unknown ids are ignored.
local s = ARGV[1]
local topic = redis.call('HGET', skey(s), 'topic')
if not topic then return {'NOT_FOUND'} end
redis.call('HSET', skey(s), 'last', ARGV[2])
if topic == '' or #ARGV < 3 then return {'OK'} end
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local log, lease, att, retry = tkey(topic, 'log'), skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry')
-- The attempt and retry hashes exist only after redeliveries.
local has_att = redis.call('EXISTS', att) == 1
local has_retry = redis.call('EXISTS', retry) == 1
chunked(ids, function(...)
  redis.call('XACK', log, s, ...)
  redis.call('ZREM', lease, ...)
  if has_att then redis.call('HDEL', att, ...) end
  if has_retry then redis.call('HDEL', retry, ...) end
end)
return {'OK'}

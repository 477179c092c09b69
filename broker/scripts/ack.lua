-- ack: ARGV s, now-ms, entry-id... Idempotent; unknown ids are ignored.
local s = ARGV[1]
local topic = redis.call('HGET', skey(s), 'topic')
if not topic then return {'NOT_FOUND'} end
redis.call('HSET', skey(s), 'last', ARGV[2])
if topic == '' or #ARGV < 3 then return {'OK'} end
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local log, lease, att, retry = tkey(topic, 'log'), skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry')
chunked(ids, function(...)
  redis.call('XACK', log, s, ...)
  redis.call('ZREM', lease, ...)
  redis.call('HDEL', att, ...)
  redis.call('HDEL', retry, ...)
end)
return {'OK'}

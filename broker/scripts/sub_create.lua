-- sub_create: ARGV s, project, id, topic, cfg-json, ack-ms, retention-ms,
--   ttl-ms, dlq-topic or '', max-attempts, retry-min-ms (-1: none),
--   retry-max-ms, now-ms, push-config-json or '' (pull)
local s, topic, dlq = ARGV[1], ARGV[4], ARGV[9]
if redis.call('EXISTS', skey(s)) == 1 then return {'ALREADY_EXISTS'} end
if redis.call('EXISTS', tkey(topic, 'topic')) == 0 then return {'TOPIC_NOT_FOUND'} end
if dlq ~= '' and redis.call('EXISTS', tkey(dlq, 'topic')) == 0 then
  return {'DLQ_NOT_FOUND'}
end
-- '$': the subscription receives what is published from now on.
redis.call('XGROUP', 'CREATE', tkey(topic, 'log'), s, '$')
redis.call('HSET', skey(s), 'cfg', ARGV[5], 'topic', topic, 'ack', ARGV[6], 'ret', ARGV[7],
  'ttl', ARGV[8], 'dlq', dlq, 'maxatt', ARGV[10], 'rmin', ARGV[11], 'rmax', ARGV[12],
  'last', ARGV[13], 'push', ARGV[14])
redis.call('ZADD', 'rn:v1:project:' .. ARGV[2] .. ':subs', 0, ARGV[3])
redis.call('SADD', 'rn:v1:subs', s)
redis.call('SADD', tkey(topic, 'subs'), s)
if ARGV[14] ~= '' then redis.call('SADD', 'rn:v1:push', s) end
return {'OK'}

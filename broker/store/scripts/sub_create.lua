-- sub_create: ARGV s, project, id, topic, cfg-json, ack-ms, retention-ms,
-- KEYS: sub topic-hash topic-log topic-subs project-subs all-subs all-push topic-filters sub-flog audit-log
--   ttl-ms, dlq-topic or '', max-attempts, retry-min-ms (-1: none),
--   retry-max-ms, now-ms, push-config-json or '' (pull), policy-json or '',
--   policy-etag (the creator's policy of a subscription made by tail),
--   filter program or '' (none), retainAckedMessages ('1'|'0'), ephemeral
--   ('1': labelled regnotify-ephemeral=true, seek.lua), enableMessageOrdering
--   ('1'|'0'), enableExactlyOnceDelivery ('1'|'0')
local s, topic, dlq = ARGV[1], ARGV[4], ARGV[9]
if redis.call('EXISTS', KEYS[1]) == 1 then return {'ALREADY_EXISTS'} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'TOPIC_NOT_FOUND'} end
if dlq ~= '' and redis.call('EXISTS', tkey(dlq, 'topic')) == 0 then
  return {'DLQ_NOT_FOUND'}
end
-- '$': the subscription receives what is published from now on. A
-- filtered one reads its own stream, which every publish from now on
-- feeds with the messages that match (prelude topic_append).
local prog = ARGV[17]
if prog ~= '' then
  redis.call('DEL', KEYS[9])
  redis.call('XGROUP', 'CREATE', KEYS[9], s, '$', 'MKSTREAM')
  redis.call('HSET', KEYS[8], s, prog)
else
  redis.call('XGROUP', 'CREATE', KEYS[3], s, '$')
end
redis.call('HSET', KEYS[1], 'cfg', ARGV[5], 'topic', topic, 'ack', ARGV[6], 'ret', ARGV[7],
  'ttl', ARGV[8], 'dlq', dlq, 'maxatt', ARGV[10], 'rmin', ARGV[11], 'rmax', ARGV[12],
  'last', ARGV[13], 'push', ARGV[14], 'flt', prog,
  'rack', ARGV[18], 'eph', ARGV[19], 'created', ARGV[13],
  'ord', ARGV[20], 'eod', ARGV[21], 'lr', '0-0')
redis.call('ZADD', KEYS[5], 0, ARGV[3])
redis.call('SADD', KEYS[6], s)
redis.call('SADD', KEYS[4], s)
if ARGV[14] ~= '' then redis.call('SADD', KEYS[7], s) end
if ARGV[15] ~= '' then
  redis.call('HSET', skey(s, 'policy'), 'json', ARGV[15], 'etag', ARGV[16])
  redis.call('SADD', ALL_POLICIES, skey(s, 'policy'))
end
audit_add()
return {'OK'}

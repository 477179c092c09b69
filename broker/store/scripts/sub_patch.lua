-- sub_patch: ARGV s, cfg-json, ack-ms, retention-ms, ttl-ms, dlq-topic or '',
-- KEYS: sub all-push audit-log
--   max-attempts, retry-min-ms, retry-max-ms, now-ms, cfg-json the update was
--   based on (compare-and-set: a concurrent update makes this one retry),
--   push-config-json or '' (pull), retainAckedMessages ('1'|'0'), ephemeral ('1'|'0'),
--   enableExactlyOnceDelivery ('1'|'0')
local s, dlq = ARGV[1], ARGV[6]
local cur = redis.call('HGET', KEYS[1], 'cfg')
if not cur then return {'NOT_FOUND'} end
if cur ~= ARGV[11] then return {'CONFLICT'} end
if dlq ~= '' and redis.call('EXISTS', tkey(dlq, 'topic')) == 0 then
  return {'DLQ_NOT_FOUND'}
end
redis.call('HSET', KEYS[1], 'cfg', ARGV[2], 'ack', ARGV[3], 'ret', ARGV[4], 'ttl', ARGV[5],
  'dlq', dlq, 'maxatt', ARGV[7], 'rmin', ARGV[8], 'rmax', ARGV[9], 'last', ARGV[10],
  'push', ARGV[12], 'rack', ARGV[13],
  'eph', ARGV[14], 'eod', ARGV[15])
if ARGV[12] ~= '' and redis.call('HGET', KEYS[1], 'detached') ~= '1' then
  redis.call('SADD', KEYS[2], s)
else
  redis.call('SREM', KEYS[2], s)
end
audit_add()
return {'OK'}

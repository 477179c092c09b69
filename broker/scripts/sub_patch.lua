-- sub_patch: ARGV s, cfg-json, ack-ms, retention-ms, ttl-ms, dlq-topic or '',
--   max-attempts, retry-min-ms, retry-max-ms, now-ms
local s, dlq = ARGV[1], ARGV[6]
if redis.call('EXISTS', skey(s)) == 0 then return {'NOT_FOUND'} end
if dlq ~= '' and redis.call('EXISTS', tkey(dlq, 'topic')) == 0 then
  return {'DLQ_NOT_FOUND'}
end
redis.call('HSET', skey(s), 'cfg', ARGV[2], 'ack', ARGV[3], 'ret', ARGV[4], 'ttl', ARGV[5],
  'dlq', dlq, 'maxatt', ARGV[7], 'rmin', ARGV[8], 'rmax', ARGV[9], 'last', ARGV[10])
return {'OK'}

-- topic_patch: ARGV t, cfg-json, retention-ms
local h = tkey(ARGV[1], 'topic')
if redis.call('EXISTS', h) == 0 then return {'NOT_FOUND'} end
redis.call('HSET', h, 'cfg', ARGV[2], 'ret', ARGV[3])
return {'OK'}

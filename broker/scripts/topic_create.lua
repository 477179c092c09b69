-- topic_create: ARGV t, project, id, cfg-json, retention-ms, now-ms
local t = ARGV[1]
local h = tkey(t, 'topic')
if redis.call('EXISTS', h) == 1 then return {'ALREADY_EXISTS'} end
redis.call('HSET', h, 'cfg', ARGV[4], 'ret', ARGV[5], 'created', ARGV[6])
redis.call('ZADD', 'rn:v1:project:' .. ARGV[2] .. ':topics', 0, ARGV[3])
redis.call('SADD', 'rn:v1:topics', t)
-- An empty stream exists for as long as the topic does.
local log = tkey(t, 'log')
redis.call('DEL', log, tkey(t, 'subs'))
redis.call('XGROUP', 'CREATE', log, 'rn:init', '$', 'MKSTREAM')
redis.call('XGROUP', 'DESTROY', log, 'rn:init')
return {'OK'}

-- topic_delete: ARGV t, project, id
-- Subscriptions stay, detached: their topic becomes "" (shown as
-- _deleted-topic_) and their backlog goes with the stream.
local t = ARGV[1]
local h = tkey(t, 'topic')
if redis.call('EXISTS', h) == 0 then return {'NOT_FOUND'} end
for _, s in ipairs(redis.call('SMEMBERS', tkey(t, 'subs'))) do
  redis.call('HSET', skey(s), 'topic', '')
  redis.call('DEL', skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry'))
end
redis.call('DEL', h, tkey(t, 'log'), tkey(t, 'subs'))
redis.call('ZREM', 'rn:v1:project:' .. ARGV[2] .. ':topics', ARGV[3])
redis.call('SREM', 'rn:v1:topics', t)
return {'OK'}

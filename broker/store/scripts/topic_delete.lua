-- topic_delete: ARGV t, project, id
-- KEYS: topic-hash topic-log topic-subs project-topics all-topics audit-log
-- Subscriptions stay, detached: their topic becomes "" (shown as
-- _deleted-topic_) and their backlog goes with the stream.
local t = ARGV[1]
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 then return {'NOT_FOUND'} end
for _, s in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('HSET', skey(s), 'topic', '')
  redis.call('DEL', skey(s, 'lease'), skey(s, 'att'), skey(s, 'retry'), flog(t, s))
  ord_reset(s)
end
-- Its snapshots stay until they expire, with no topic (a seek to one fails).
for _, n in ipairs(redis.call('SMEMBERS', tkey(t, 'snaps'))) do
  redis.call('HSET', 'rn:v1:snap:{' .. n .. '}', 'topic', '')
end
redis.call('DEL', h, KEYS[2], KEYS[3], tkey(t, 'filters'), tkey(t, 'snaps'))
-- Its IAM policy goes with it (tkey(t, 'policy'), keys.h KEYS_TOPIC_POLICY).
redis.call('SREM', ALL_POLICIES, tkey(t, 'policy'))
if redis.call('DEL', tkey(t, 'policy')) == 1 then
  redis.call('PUBLISH', IAM_CHANNEL, 'policy:projects/' .. ARGV[2] .. '/topics/' .. ARGV[3])
end
redis.call('ZREM', KEYS[4], ARGV[3])
redis.call('SREM', KEYS[5], t)
audit_add()
return {'OK'}

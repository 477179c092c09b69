-- topic_patch: ARGV t, cfg-json, retention-ms, cfg-json the update was based on
-- KEYS: topic-hash audit-log
-- Compare-and-set: a concurrent update in between makes this one retry.
local h = KEYS[1]
local cur = redis.call('HGET', h, 'cfg')
if not cur then return {'NOT_FOUND'} end
if cur ~= ARGV[4] then return {'CONFLICT'} end
redis.call('HSET', h, 'cfg', ARGV[2], 'ret', ARGV[3])
audit_add()
return {'OK'}

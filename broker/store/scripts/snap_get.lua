-- snap_get: ARGV now-ms
-- KEYS: snap
-- Replies {'OK', topic ('' once the topic is deleted), expire-ms, labels}
-- or {'NOT_FOUND'} (also once it expired: the sweeper's trim deletes it).
local f = redis.call('HMGET', KEYS[1], 'topic', 'expire', 'labels')
if not f[1] or tonumber(f[2]) <= tonumber(ARGV[1]) then return {'NOT_FOUND'} end
return {'OK', f[1], f[2], f[3] or ''}

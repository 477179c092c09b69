-- policy_get: ARGV check_owner. The policy of a resource that must exist
-- (check_owner '1': its own hash, KEYS[2]). Reply {'OK', json, etag}
-- (json and etag false when it has none), then its auditConfigs json (or
-- false) | {'NOT_FOUND'}.
-- KEYS: policy owner
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return {'NOT_FOUND'} end
local f = redis.call('HMGET', KEYS[1], 'json', 'etag', 'audit')
return {'OK', f[1], f[2], f[3]}

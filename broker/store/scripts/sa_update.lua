-- sa_update: ARGV field, value, email, channel. Sets one field of an
-- existing account (disabled, display_name, description) and tells every
-- broker. Reply {'OK'} | {'NOT_FOUND'}.
-- KEYS: sa audit-log
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], 'sa:' .. ARGV[3])
audit_add()
return {'OK'}

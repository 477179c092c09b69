-- key_delete: ARGV key_id, email, channel. Reply {'OK'} | {'NOT_FOUND'}.
-- Every broker drops the key from its cache at once (the PUBLISH).
-- KEYS: sa-keys sa-key audit-log
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {'NOT_FOUND'} end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[3], 'key:' .. ARGV[2] .. '/' .. ARGV[1])
audit_add()
return {'OK'}

-- key_create: ARGV key_id, public_pem, algorithm, created_ms, valid_before_ms, max_keys
-- Reply {'OK'} | {'NOT_FOUND'} (no such account) | {'FAILED_PRECONDITION'}
-- (it has max_keys keys already).
-- KEYS: sa sa-keys sa-key audit-log
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[6]) then return {'FAILED_PRECONDITION'} end
redis.call('HSET', KEYS[3], 'key_id', ARGV[1], 'public_pem', ARGV[2], 'algorithm', ARGV[3],
  'created_ms', ARGV[4], 'valid_before_ms', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
audit_add()
return {'OK'}

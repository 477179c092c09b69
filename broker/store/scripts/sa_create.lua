-- sa_create: ARGV email, project, account_id, unique_id, display_name, description, now_ms
-- KEYS: sa project-sas all-sas audit-log
if redis.call('EXISTS', KEYS[1]) == 1 then return {'ALREADY_EXISTS'} end
redis.call('HSET', KEYS[1], 'email', ARGV[1], 'project', ARGV[2], 'account_id', ARGV[3],
  'unique_id', ARGV[4], 'display_name', ARGV[5], 'description', ARGV[6], 'disabled', '0',
  'created_ms', ARGV[7])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
audit_add()
return {'OK'}

-- sink_delete: ARGV project, name
-- KEYS: project-sinks sinks-projects sinks-ver audit-log
-- Deletes log sink name of project and bumps the sinks version. Reply
-- {'OK'} | {'NOT_FOUND'}.
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return {'NOT_FOUND'} end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('INCR', KEYS[3])
audit_add()
return {'OK'}

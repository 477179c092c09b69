-- sink_put: ARGV project, name, json, expected ('' create | the current json), max-per-project
-- KEYS: project-sinks sinks-projects sinks-ver audit-log
-- Creates log sink name of project (expected ''): {'ALREADY_EXISTS'} when
-- it exists, {'RESOURCE_EXHAUSTED'} past max sinks; or replaces it when its
-- stored JSON is still expected ({'NOT_FOUND'}, {'ABORTED'}: changed
-- meanwhile, read again). Bumps the sinks version (prelude.lua), so every
-- broker reloads its sinks before its next audited write. Reply {'OK'}.
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if ARGV[4] == '' then
  if cur then return {'ALREADY_EXISTS'} end
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return {'RESOURCE_EXHAUSTED'} end
else
  if not cur then return {'NOT_FOUND'} end
  if cur ~= ARGV[4] then return {'ABORTED'} end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
audit_add()
return {'OK'}

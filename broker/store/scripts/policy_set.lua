-- policy_set: ARGV policy_json, new_etag, expected_etag ("": none), resource, channel, check_owner, audit_mode, audit_json
-- KEYS: policy owner all-policies audit-log
-- Compare-and-set of a resource's IAM policy: a stale expected etag gets
-- {'ABORTED'}; with check_owner '1' the resource's own hash (KEYS[2]) must
-- exist ({'NOT_FOUND'}). The auditConfigs live in their own field: audit_mode
-- 'set' replaces them with audit_json ('' drops them), 'keep' leaves them
-- (an updateMask without auditConfigs). Reply {'OK', auditConfigs json | false}.
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return {'NOT_FOUND'} end
if ARGV[3] ~= '' then
  -- 'ACAB' is the etag of a resource without a policy (as Google's).
  local cur = redis.call('HGET', KEYS[1], 'etag') or 'ACAB'
  if cur ~= ARGV[3] then return {'ABORTED'} end
end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'etag', ARGV[2])
if ARGV[7] == 'set' then
  if ARGV[8] == '' then redis.call('HDEL', KEYS[1], 'audit')
  else redis.call('HSET', KEYS[1], 'audit', ARGV[8]) end
end
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PUBLISH', ARGV[5], 'policy:' .. ARGV[4])
audit_add()
return {'OK', redis.call('HGET', KEYS[1], 'audit')}

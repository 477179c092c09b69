-- policy_set: ARGV policy_json, new_etag, expected_etag ("": none), resource, channel, check_owner
-- Compare-and-set of a resource's IAM policy: a stale expected etag gets
-- {'ABORTED'}; with check_owner '1' the resource's own hash (KEYS[2]) must
-- exist ({'NOT_FOUND'}). Reply {'OK'}.
-- KEYS: policy owner all-policies audit-log
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return {'NOT_FOUND'} end
if ARGV[3] ~= '' then
  -- 'ACAB' is the etag of a resource without a policy (as Google's).
  local cur = redis.call('HGET', KEYS[1], 'etag') or 'ACAB'
  if cur ~= ARGV[3] then return {'ABORTED'} end
end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'etag', ARGV[2])
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PUBLISH', ARGV[5], 'policy:' .. ARGV[4])
audit_add()
return {'OK'}

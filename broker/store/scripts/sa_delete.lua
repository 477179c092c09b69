-- sa_delete: ARGV email, channel. Deletes the account and every key of it,
-- then tells every broker (their key caches drop the account at once).
-- KEYS: sa sa-keys project-sas all-sas
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('DEL', sakey(ARGV[1], k))
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'sa:' .. ARGV[1])
return {'OK'}

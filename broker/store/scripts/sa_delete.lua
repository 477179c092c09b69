-- sa_delete: ARGV email, channel. Deletes the account and every key of it,
-- then tells every broker (their key caches drop the account at once). In
-- every policy its members "serviceAccount:E" become
-- "deleted:serviceAccount:E?uid=UID" (as Google's), so that a new account
-- with the same email does not inherit them.
-- KEYS: sa sa-keys project-sas all-sas all-policies audit-log
local uid = redis.call('HGET', KEYS[1], 'unique_id')
if not uid then return {'NOT_FOUND'} end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('DEL', sakey(ARGV[1], k))
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
local member = 'serviceAccount:' .. ARGV[1]
local changed = false
for _, pk in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  local js = redis.call('HGET', pk, 'json')
  if js and string.find(js, '"' .. member .. '"', 1, true) then
    local p = cjson.decode(js)
    for _, b in ipairs(p.bindings or {}) do
      for i, m in ipairs(b.members or {}) do
        if m == member then b.members[i] = 'deleted:' .. member .. '?uid=' .. uid end
      end
    end
    p.etag = 'D' .. string.sub(redis.sha1hex(js .. uid), 1, 11)
    redis.call('HSET', pk, 'json', cjson.encode(p), 'etag', p.etag)
    changed = true
  end
end
redis.call('PUBLISH', ARGV[2], 'sa:' .. ARGV[1])
if changed then redis.call('PUBLISH', ARGV[2], 'policies') end
audit_add()
return {'OK'}

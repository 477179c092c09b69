-- expire: ARGV s, now-ms. Deletes S when it saw no activity for its TTL,
-- with its System Event audit entry.
-- KEYS: sub audit-log
local f = redis.call('HMGET', KEYS[1], 'ttl', 'last')
local ttl, last = tonumber(f[1]), tonumber(f[2])
if not ttl or ttl < 0 or not last then return 0 end
if tonumber(ARGV[2]) - last <= ttl then return 0 end
delete_sub(ARGV[1])
audit_add()
return 1

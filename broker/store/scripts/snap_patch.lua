-- snap_patch: ARGV now-ms, labels-json ('-': unchanged), expire-ms ('': unchanged)
-- KEYS: snap audit-log
-- Pub/Sub's UpdateSnapshot of labels and expireTime: an expireTime must be
-- in the future and no later than 7 days after the oldest message the
-- snapshot holds. Replies {'OK', topic, expire-ms, labels} or
-- {'NOT_FOUND' | 'EXPIRE_PAST' | 'EXPIRE_TOO_LATE', limit-ms}.
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'topic', 'expire', 'labels', 'oldest')
if not f[1] or tonumber(f[2]) <= now then return {'NOT_FOUND'} end
local expire, labels = f[2], f[3] or ''
if ARGV[3] ~= '' then
  local limit = tonumber(f[4]) + 7 * 86400000
  local e = tonumber(ARGV[3])
  if e <= now then return {'EXPIRE_PAST', tostring(limit)} end
  if e > limit then return {'EXPIRE_TOO_LATE', tostring(limit)} end
  expire = ARGV[3]
end
if ARGV[2] ~= '-' then labels = ARGV[2] end
redis.call('HSET', KEYS[1], 'expire', expire, 'labels', labels)
audit_add()
return {'OK', f[1], expire, labels}

-- snap_list: ARGV project, start ('-' or '(token'), count, now-ms
-- KEYS: project-snaps
-- The page of snapshots.list: {'OK', id, topic, expire-ms, labels, ...} in
-- name order, without expired ones.
local p, now = ARGV[1], tonumber(ARGV[4])
local out = {'OK'}
for _, id in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], '+', 'LIMIT', 0,
                               tonumber(ARGV[3]))) do
  local f = redis.call('HMGET', 'rn:v1:snap:{' .. p .. '/' .. id .. '}', 'topic', 'expire',
                       'labels')
  if f[1] and tonumber(f[2]) > now then
    out[#out + 1] = id
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3] or ''
  end
end
return out

-- topic_snaps: ARGV now-ms. Replies {'OK', 'P/N', ...} (live snapshots) or {'NOT_FOUND'}.
-- KEYS: topic-hash topic-snaps
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local now = tonumber(ARGV[1])
local out = {'OK'}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local e = redis.call('HGET', 'rn:v1:snap:{' .. n .. '}', 'expire')
  if e and tonumber(e) > now then out[#out + 1] = n end
end
return out

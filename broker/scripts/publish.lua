-- publish: ARGV t, n, then n x (data, attributes-json or '', ordering key or ''),
--   then the publishing broker's instance id (the wake-up payload)
-- Appends all messages in one atomic step; replies {'OK', id...} in order.
local t = ARGV[1]
if redis.call('EXISTS', tkey(t, 'topic')) == 0 then return {'NOT_FOUND'} end
local log = tkey(t, 'log')
local out = {'OK'}
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local d, a, k = ARGV[3 + i * 3], ARGV[4 + i * 3], ARGV[5 + i * 3]
  local id
  if a == '' and k == '' then
    id = redis.call('XADD', log, '*', 'd', d)
  elseif k == '' then
    id = redis.call('XADD', log, '*', 'd', d, 'a', a)
  else
    id = redis.call('XADD', log, '*', 'd', d, 'a', a, 'k', k)
  end
  out[#out + 1] = id
end
redis.call('PUBLISH', 'rn:v1:wake:' .. t, ARGV[3 + n * 3] or '')
return out

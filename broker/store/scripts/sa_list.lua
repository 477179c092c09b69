-- sa_list: ARGV start ('-' or '(email'), count
-- Replies {'OK', email, {field, value, ...}, email, ...} in email order.
-- KEYS: project-sas
local out = {'OK'}
for _, e in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0,
    tonumber(ARGV[2]))) do
  local h = redis.call('HGETALL', sahash(e))
  if #h > 0 then
    out[#out + 1] = e
    out[#out + 1] = h
  end
end
return out

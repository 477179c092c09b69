-- push_list: no ARGV. Every push subscription with what its delivery needs:
-- KEYS: all-push
-- {name, push-config-json, ack-ms, topic, ...}.
local out = {}
for _, s in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local f = redis.call('HMGET', skey(s), 'push', 'ack', 'topic')
  if f[1] and f[1] ~= '' then
    out[#out + 1] = s
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or '10000'
    out[#out + 1] = f[3] or ''
  end
end
return out

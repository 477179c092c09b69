-- list: ARGV kind ('topics' | 'subs'), project, start ('-' or '(token'), count
-- KEYS: project-index
-- Replies {'OK', id, cfg-json, topic, id, ...} in name order; topic is ''
-- for topics and for detached subscriptions.
local kind, p = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[3], '+',
  'LIMIT', 0, tonumber(ARGV[4]))
local out = {'OK'}
for _, id in ipairs(ids) do
  local cfg, topic
  if kind == 'topics' then
    cfg = redis.call('HGET', tkey(p .. '/' .. id, 'topic'), 'cfg')
    topic = ''
  else
    local f = redis.call('HMGET', skey(p .. '/' .. id), 'cfg', 'topic')
    cfg, topic = f[1], f[2]
  end
  if cfg then
    out[#out + 1] = id
    out[#out + 1] = cfg
    out[#out + 1] = topic or ''
  end
end
return out

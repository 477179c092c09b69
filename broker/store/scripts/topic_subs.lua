-- topic_subs: ARGV t. Replies {'OK', 'p/s', ...} or {'NOT_FOUND'}.
-- KEYS: topic-hash topic-subs
local t = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local out = redis.call('SMEMBERS', KEYS[2])
table.insert(out, 1, 'OK')
return out

-- topic_subs: ARGV t. Replies {'OK', 'p/s', ...} or {'NOT_FOUND'}.
local t = ARGV[1]
if redis.call('EXISTS', tkey(t, 'topic')) == 0 then return {'NOT_FOUND'} end
local out = redis.call('SMEMBERS', tkey(t, 'subs'))
table.insert(out, 1, 'OK')
return out

-- key_list: ARGV email. Reply {'OK', {field, value, ...}, ...} (one hash
-- per key, ordered by key id) | {'NOT_FOUND'} (no such account).
-- KEYS: sa sa-keys
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local ids = redis.call('SMEMBERS', KEYS[2])
table.sort(ids)
local out = {'OK'}
for _, k in ipairs(ids) do out[#out + 1] = redis.call('HGETALL', sakey(ARGV[1], k)) end
return out

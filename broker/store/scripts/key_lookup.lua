-- key_lookup: what token verification needs of key K of account E, in one
-- round trip. Reply {'OK', public_pem, valid_before_ms, disabled} |
-- {'NOT_FOUND'} (no such account or key).
-- KEYS: sa sa-key
local d = redis.call('HGET', KEYS[1], 'disabled')
if not d then return {'NOT_FOUND'} end
local k = redis.call('HMGET', KEYS[2], 'public_pem', 'valid_before_ms')
if not k[1] then return {'NOT_FOUND'} end
return {'OK', k[1], k[2] or '0', d}

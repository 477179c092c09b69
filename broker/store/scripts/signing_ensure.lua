-- signing_ensure: ARGV kid, key_json, now_ms, rotate_ms, keep_ms, channel
-- The broker's signing keys (kid -> {"pem","created_ms"}): adds the
-- candidate key when no key is younger than rotate_ms (the first broker
-- to ask wins; the others use its key), drops keys older than keep_ms
-- (tokens they signed have expired). Reply: every kid and JSON, newest last.
-- KEYS: signing
local now, newest = tonumber(ARGV[3]), 0
local all = redis.call('HGETALL', KEYS[1])
local changed = false
for i = 1, #all, 2 do
  local created = tonumber(cjson.decode(all[i + 1]).created_ms)
  if now - created > tonumber(ARGV[5]) then
    redis.call('HDEL', KEYS[1], all[i])
    changed = true
  elseif created > newest then
    newest = created
  end
end
if now - newest > tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  changed = true
end
if changed then redis.call('PUBLISH', ARGV[6], 'signing') end
return redis.call('HGETALL', KEYS[1])
